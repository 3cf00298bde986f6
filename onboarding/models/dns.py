"""The latest DNS verdict per own domain and expected record (the schedule lives on the domain)."""

from __future__ import annotations

from django.db import models

from onboarding.models.calling_domains import CallingDomain


class DnsVerdict(models.TextChoices):
    """One record's outcome (domain.md, "DNS for own domains")."""

    OK = "ok", "ok"
    MISSING = "missing", "missing"
    MISMATCH = "mismatch", "mismatch"
    UNKNOWN = "unknown", "unknown"
    # only for `verify_dns` on a domain no tenant owns: there is no ownership code to look for
    NOT_APPLICABLE = "not_applicable", "not applicable"


class DomainVerdict(models.TextChoices):
    """A domain's overall outcome: ok only when every record is."""

    OK = "ok", "ok"
    CUSTOMER_MUST_ACT = "customer_must_act", "customer must act"
    UNKNOWN = "unknown", "unknown"


class DnsCheck(models.Model):
    """The latest check of one expected record of one own domain; rewritten by every check."""

    calling_domain = models.ForeignKey(
        CallingDomain, on_delete=models.CASCADE, related_name="dns_checks"
    )
    # absolute, ASCII (A-labels), as queried: `_sip._tcp.video.example.com.`
    record_name = models.CharField(max_length=255)
    record_type = models.CharField(max_length=10)
    expected_value = models.CharField(max_length=300)
    verdict = models.CharField(max_length=20, choices=DnsVerdict.choices)
    # what the servers returned, one entry per record (CNAMEs on the way first)
    found = models.JSONField(default=list, blank=True)
    # why, in words: "no such name", "SERVFAIL from 192.0.2.53", ...
    detail = models.CharField(max_length=500, blank=True)
    checked_at = models.DateTimeField()

    class Meta:
        ordering = ["calling_domain_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["calling_domain", "record_name", "record_type"],
                name="dns_check_one_row_per_record",
            )
        ]
        verbose_name = "DNS check"

    def __str__(self) -> str:
        return f"{self.record_name} {self.record_type}: {self.verdict}"

    @property
    def found_display(self) -> str:
        return "; ".join(self.found) or self.detail
