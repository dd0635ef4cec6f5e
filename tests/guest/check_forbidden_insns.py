#!/usr/bin/env python3
"""Fails if the guest ELF contains RDTSC, RDTSCP, RDRAND or RDSEED.

Record/replay (docs/guest.md, DESIGN.md section 2) needs every time and
randomness read to be a device read the VMM can log; a KVM user space cannot
trap these four instructions, so the guest must never execute them. This
disassembles every executable section and rejects any occurrence, reachable
or not, except in the one function the divergence test needs (ALLOWED).

usage: check_forbidden_insns.py OBJDUMP ELF
"""
import re
import subprocess
import sys

FORBIDDEN = re.compile(r"\b(rdtscp?|rdrand|rdseed)\b")
# The tsccanary workload's reader: the one deliberate RDTSC, which the replay
# engine's divergence test needs (guest/workloads/tsccanary.c).
ALLOWED = {"ftg_tsc_canary_read"}


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    objdump, elf = sys.argv[1], sys.argv[2]
    proc = subprocess.run([objdump, "-d", "--no-show-raw-insn", elf],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(f"{objdump} failed on {elf}:\n{proc.stderr}", file=sys.stderr)
        return 2
    # Sanity check: an empty or foreign disassembly would "pass" vacuously.
    if "<ftg_main>:" not in proc.stdout:
        print(f"{elf}: no ftg_main in the disassembly; is this ftguest.elf?",
              file=sys.stderr)
        return 2
    hits = []
    symbol = "?"
    for line in proc.stdout.splitlines():
        if line.endswith(">:"):
            symbol = line.split("<", 1)[-1].rstrip(">:")
            continue
        # Only the mnemonic column: symbol names may contain the words.
        parts = line.split("\t")
        if (len(parts) >= 2 and FORBIDDEN.search(parts[1])
                and symbol not in ALLOWED):
            hits.append(f"  in {symbol}: {line.strip()}")
    if hits:
        print(f"{elf}: forbidden instructions (the guest must read time only "
              "from the PIT and randomness only from devices):")
        print("\n".join(hits))
        return 1
    print(f"{elf}: no rdtsc/rdtscp/rdrand/rdseed outside "
          f"{', '.join(sorted(ALLOWED))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
