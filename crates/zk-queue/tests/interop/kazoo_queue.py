"""kazoo's queues driven by zk-queue's interop tests (crates/zk-queue/tests/it/interop.rs), on
zk-testkit's helper_support (the connection, the standard input and output).

usage: kazoo_queue.py MODE HOSTS PATH

MODE is the kazoo recipe on PATH:
  queue    kazoo.recipe.queue.Queue (items straight under PATH, taken by deleting them)
  locking  kazoo.recipe.queue.LockingQueue (PATH/entries, leases in PATH/taken)

Prints `ready`, then answers one line per command on standard input:
  put PRIORITY DATA       put DATA (ASCII) at PRIORITY; answers `put`
  putall PRIORITY D1,D2   (locking) one put_all of the items; answers `put`
  get                     queue: get() an item; locking: get(timeout=2), which locks it;
                          answers `got DATA`, or `empty`
  consume                 (locking) consume() the locked item; answers `consumed True|False`
  len                     answers `len N` (kazoo's len: items, locked ones included)
  exit                    closes the session and exits

Standard input closing means the test is gone: the process exits at once.
Exit status: 0 done, 2 standard input closed, 4 bad usage.
"""

import sys

from helper_support import finish, next_command, say, start


def main():
    usable = len(sys.argv) == 4 and sys.argv[1] in ("queue", "locking")
    client = start(usable, __doc__)
    mode, path = sys.argv[1], sys.argv[3]
    if mode == "queue":
        queue = client.Queue(path)
    else:
        queue = client.LockingQueue(path)
    say("ready")
    while True:
        words = next_command().split(" ")
        if words[0] == "put":
            queue.put(words[2].encode(), priority=int(words[1]))
            say("put")
        elif words[0] == "putall":
            queue.put_all([w.encode() for w in words[2].split(",")], priority=int(words[1]))
            say("put")
        elif words[0] == "get":
            item = queue.get() if mode == "queue" else queue.get(timeout=2)
            say("empty" if item is None else "got " + item.decode())
        elif words[0] == "consume":
            say("consumed %s" % queue.consume())
        elif words[0] == "len":
            say("len %d" % len(queue))
        elif words[0] == "exit":
            finish(client)
        else:
            sys.stderr.write("unknown command %r\n" % words)
            sys.exit(4)


if __name__ == "__main__":
    main()
