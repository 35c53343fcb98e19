"""A kazoo Counter driven by zk-config's interop tests (crates/zk-config/tests/it/interop.rs),
on zk-testkit's helper_support (the connection, the standard input and output).

usage: kazoo_counter.py MODE HOSTS PATH COUNT

MODE is the counter's format:
  add          kazoo's own: ASCII decimal text (Counter(client, PATH))
  add-curator  Curator's SharedCount: 4 big-endian bytes
               (Counter(client, PATH, support_curator=True))

Then, driven by lines on standard input:
  1. reads the counter (kazoo's ensure_path creates PATH empty if absent) and prints
     `ready VALUE`;
  2. on `go`: `counter += 1` COUNT times, then prints `done`;
  3. on `read`: reads the counter again, prints `value VALUE` and exits.

The client retries a conflicting `+= 1` (BadVersion) without end, after a short pause that
grows to at most 20 ms (kazoo's default grows to an hour, which would stall this test while
the other writers run flat out).

Standard input closing means the test is gone: the process exits at once.
Exit status: 0 done, 2 standard input closed, 4 bad usage.
"""

import sys

from helper_support import finish, say, start, wait_for


def main():
    usable = len(sys.argv) == 5 and sys.argv[1] in ("add", "add-curator")
    retry = dict(max_tries=-1, delay=0.001, backoff=1.5, max_delay=0.02)
    client = start(usable, __doc__, command_retry=retry)
    mode, path, count = sys.argv[1], sys.argv[3], int(sys.argv[4])
    counter = client.Counter(path, support_curator=(mode == "add-curator"))

    say("ready %d" % counter.value)
    wait_for("go")
    for _ in range(count):
        counter += 1
    say("done")
    wait_for("read")
    say("value %d" % counter.value)

    finish(client)


if __name__ == "__main__":
    main()
