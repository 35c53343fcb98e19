"""A kazoo lock contender driven by zk-lock's interop tests (crates/zk-lock/tests/it/interop.rs),
on zk-testkit's helper_support (the connection, the standard input and output, the shared
counter).

usage: kazoo_lock.py MODE HOSTS LOCK_PATH KIND [DIR CYCLES]

KIND is `lock` (kazoo.recipe.lock.Lock), `write` (WriteLock) or `read` (ReadLock).
MODE is one of:
  count  CYCLES times: acquire, create DIR/holder exclusively (it must not exist: someone
         else holding the lock at the same time would have made it), read the number in
         DIR/counter, sleep 1 ms, write the number plus one, remove DIR/holder, release.
         Prints `done` at the end.
  hold   acquire (waiting as long as it takes), print `held`, wait for a `release` line on
         standard input, release, print `released`.
  try    acquire without waiting; print `acquired` (and release) or `blocked`.
  serve  one Lock object for the process's life, driven by lines on standard input:
         `acquire` (waits; prints `held`, or `error <exception>` with the traceback on
         standard error), `release` (prints `released`), `quit`.

Standard input closing means the test is gone: the process exits at once.
Exit status: 0 done, 2 standard input closed, 3 two holders seen at once, 4 bad usage.
"""

import os
import sys
import traceback

from helper_support import bad_usage, bump_counter, finish, next_command, say, skip_to, start


def make_lock(client, kind, path):
    if kind == "lock":
        return client.Lock(path, "kazoo")
    if kind == "write":
        return client.WriteLock(path, "kazoo")
    if kind == "read":
        return client.ReadLock(path, "kazoo")
    bad_usage("unknown lock kind %r" % kind)


def caught(other):
    return "kazoo %d got the lock while %s held it" % (os.getpid(), other)


def main():
    client = start(len(sys.argv) >= 5, __doc__)
    mode, _, path, kind = sys.argv[1:5]
    lock = make_lock(client, kind, path)

    if mode == "count":
        directory, cycles = sys.argv[5], int(sys.argv[6])
        for _ in range(cycles):
            lock.acquire()
            try:
                bump_counter(directory, "kazoo pid %d" % os.getpid(), caught)
            finally:
                lock.release()
        say("done")
    elif mode == "hold":
        lock.acquire()
        say("held")
        skip_to("release")
        lock.release()
        say("released")
    elif mode == "serve":
        while True:
            command = next_command()
            if command == "acquire":
                try:
                    lock.acquire()
                    say("held")
                except Exception as e:
                    traceback.print_exc()
                    sys.stderr.flush()
                    say("error %s" % type(e).__name__)
            elif command == "release":
                lock.release()
                say("released")
            elif command == "quit":
                break
    elif mode == "try":
        if lock.acquire(blocking=False):
            say("acquired")
            lock.release()
        else:
            say("blocked")
    else:
        bad_usage("unknown mode %r" % mode)

    finish(client)


if __name__ == "__main__":
    main()
