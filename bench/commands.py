"""Commands per second: through the console (a pipe into ``netzbot console``) and through the
Telegram fake (``netzbot run`` polling updates and answering them); first, how long splitting
a long command's arguments takes (bot.args: anyone can send 100,000 characters).

    python bench/commands.py            # arguments, 2000 console lines, 1000 Telegram commands
    python bench/commands.py -n 5000 --telegram-n 2000 --command "/hilfe abo"
    python bench/commands.py --arguments-only
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from common import (
    REPO,
    NetzbotProcess,
    TelegramFakeProcess,
    cpu_seconds,
    scratch_dir,
    write_config,
)

ARGUMENTS = {
    "100,000 characters, one word": "x" * 100_000,
    "20,000 words": " ".join(["wort"] * 20_000),
    "100,000 characters in quotes": '"' + "x " * 50_000 + '"',
    "a quote that never closes": '"' + "x " * 50_000,
    "20,000 quoted words": " ".join(['"a b"'] * 20_000),
    "25,000 escaped spaces": "a\\ b" * 25_000,
    "an option's value of 20,000 words": "3.12.2030 18:00 X ort=" + " ".join(["wort"] * 20_000),
}


def bench_arguments(repeat: int = 5) -> None:
    """Milliseconds per parse_args of each long argument text (best of ``repeat``)."""
    from bot.args import parse_args

    print(f"arguments: bot.args.parse_args, best of {repeat}")
    for name, text in ARGUMENTS.items():
        best = float("inf")
        for _ in range(repeat):
            started = time.perf_counter()
            parse_args(text, ("ort", "link"))
            best = min(best, time.perf_counter() - started)
        print(f"  {name:36} {1000 * best:8.2f} ms")


def console_run(lines: int, command: str, config: str) -> tuple[float, float]:
    """Wall and CPU seconds of ``netzbot console`` answering ``lines`` commands from a pipe."""
    text = "".join(f"{command}\n" for _ in range(lines))
    started = time.monotonic()
    before = os.times()
    subprocess.run(
        [sys.executable, "-m", "bot", "--config", config, "console"],
        input=text.encode(),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        check=True,
    )
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return time.monotonic() - started, cpu


def bench_console(n: int, command: str) -> None:
    work = scratch_dir()
    config = work / "console.toml"
    config.write_text(f'[storage]\nurl = "sqlite:///{work}/console.sqlite3"\n', encoding="utf-8")
    console_run(1, command, str(config))  # migrate once
    base_wall, base_cpu = console_run(1, command, str(config))
    wall, cpu = console_run(n + 1, command, str(config))
    per_s = n / (wall - base_wall)
    print(f"console: {n} x {command!r} through a pipe into netzbot console")
    print(f"  start-up and shut-down     {base_wall:.2f} s")
    print(f"  commands per second        {per_s:.0f}")
    print(f"  CPU per command            {1000 * (cpu - base_cpu) / n:.2f} ms")


def bench_telegram(n: int, command: str) -> None:
    work = scratch_dir()
    fake = TelegramFakeProcess("--no-rate-limits")
    name, _, args = command.lstrip("/").partition(" ")
    for i in range(n):  # queued before netzbot connects: it fetches them in batches of 100
        fake.call(
            "/_fake/push",
            {"kind": "command", "chat_id": 500_000 + i, "command": name, "args": args},
        )
    config = write_config(work, f"sqlite:///{work}/tg.sqlite3", fake.base_url, 30)
    bot = NetzbotProcess(config, work / "bot.log")
    try:
        bot.wait_log("ready platforms=")
        cpu0 = cpu_seconds(bot.pid)
        deadline = time.monotonic() + 300
        while fake.stats()["sent"] < n and time.monotonic() < deadline:
            time.sleep(0.1)
        cpu = cpu_seconds(bot.pid) - cpu0
        sent = fake.sent()
    finally:
        bot.stop()
        fake.stop()
    replies = [s for s in sent if s["method"].lower() == "sendmessage"]
    span = replies[-1]["at"] - replies[0]["at"]
    print(f"telegram: {n} x {command!r} from {n} private chats, netzbot run polling the fake")
    print(f"  answered                   {len({r['chat_id'] for r in replies})} of {n}")
    print(f"  commands per second        {len(replies) / span:.0f} (first to last reply)")
    print(f"  CPU per command            {1000 * cpu / n:.2f} ms (after ready)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("-n", type=int, default=2000, help="console commands (2000)")
    p.add_argument("--telegram-n", type=int, default=1000, help="Telegram commands (1000)")
    p.add_argument("--command", default="/hilfe", help="what to send (/hilfe)")
    p.add_argument("--arguments-only", action="store_true", help="only the argument splitting")
    args = p.parse_args()
    bench_arguments()
    if args.arguments_only:
        return
    bench_console(args.n, args.command)
    if args.telegram_n:
        bench_telegram(args.telegram_n, args.command)


if __name__ == "__main__":
    main()
