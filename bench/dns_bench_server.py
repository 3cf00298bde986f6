"""bench/dns_verify.py's DNS server: answers every expected question of N bench domains from
precomputed wire bytes after a fixed delay, in its own process (asyncio), cheap per answer so
that on a small machine the client, not the server, sets the pace."""

from __future__ import annotations

import argparse
import asyncio
import resource
import subprocess
import sys
import threading

SRV_RECORDS = (("_sips._tcp", 5061), ("_sip._tcp", 5060), ("_h323cs._tcp", 1720))
EDNS_PAYLOAD = 1232  # as onboarding/dns.py asks, so both sides send identical queries


def domain_name(number: int) -> str:
    return f"d{number}.bench.test"


def ownership_code(number: int) -> str:
    return f"{number:032x}"


def questions(number: int) -> list[tuple[str, str]]:
    domain = domain_name(number)
    srv = [(f"{label}.{domain}.", "SRV") for label, _port in SRV_RECORDS]
    return [*srv, (f"_pexip-verification.{domain}.", "TXT")]


# The DNS server (a child process) ---------------------------------------------------------------


def serve(domains: int, delay: float, target: str) -> None:
    """Answer every expected question from precomputed wire bytes after `delay` seconds."""
    import dns.flags
    import dns.message
    import dns.rrset

    answers: dict[bytes, bytes] = {}
    for number in range(domains):
        for (name, rdtype), data in zip(
            questions(number), _record_data(number, target), strict=True
        ):
            query = dns.message.make_query(name, rdtype, use_edns=0, payload=EDNS_PAYLOAD)
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            response.answer.append(dns.rrset.from_text(name, 60, "IN", rdtype, data))
            wire = query.to_wire()
            answers[wire[12 : 12 + _question_length(wire)]] = response.to_wire()[2:]

    class Answerer(asyncio.DatagramProtocol):
        answered = 0

        def connection_made(self, transport: asyncio.DatagramTransport) -> None:
            self.transport = transport

        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            template = answers.get(data[12 : 12 + _question_length(data)])
            if template is not None:
                Answerer.answered += 1
                loop.call_later(delay, self.transport.sendto, data[:2] + template, addr)

    loop = asyncio.new_event_loop()
    transport, _protocol = loop.run_until_complete(
        loop.create_datagram_endpoint(Answerer, local_addr=("127.0.0.1", 0))
    )
    port = transport.get_extra_info("sockname")[1]
    print(f"ready {port}", flush=True)

    def commands() -> None:  # "count": answers and CPU seconds so far; end of input: stop
        for line in sys.stdin:
            if line.strip() == "count":
                print(Answerer.answered, cpu_seconds(), flush=True)
        loop.call_soon_threadsafe(loop.stop)

    threading.Thread(target=commands, daemon=True).start()
    loop.run_forever()


def _record_data(number: int, target: str) -> list[str]:
    srv = [f"10 10 {port} {target}." for _label, port in SRV_RECORDS]
    return [*srv, f'"pexip-verification={ownership_code(number)}"']


def _question_length(wire: bytes) -> int:
    """Bytes of the question (name, type, class) that starts at offset 12."""
    offset = 12
    while wire[offset]:
        offset += wire[offset] + 1
    return offset + 1 + 4 - 12


class DnsServerProcess:
    def __init__(self, domains: int, delay_ms: float, target: str) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--domains",
                str(domains),
                "--delay-ms",
                str(delay_ms),
                "--target",
                target,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        ready = self.process.stdout.readline().split()
        if not ready or ready[0] != "ready":
            raise RuntimeError("the benchmark DNS server did not start")
        self.port = int(ready[1])

    def counters(self) -> tuple[int, float]:
        """Answers sent and CPU seconds used so far."""
        self.process.stdin.write("count\n")
        self.process.stdin.flush()
        answered, cpu = self.process.stdout.readline().split()
        return int(answered), float(cpu)

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--domains", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, required=True)
    parser.add_argument("--target", required=True)
    args = parser.parse_args()
    serve(args.domains, args.delay_ms / 1000, args.target)
