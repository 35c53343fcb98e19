"""A kazoo lock contender driven by zk-lock's interop tests (crates/zk-lock/tests/it/interop.rs).

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

import logging
import os
import queue
import sys
import threading
import time
import traceback

from kazoo.client import KazooClient

commands = queue.Queue()


def watch_stdin():
    for line in sys.stdin:
        commands.put(line.strip())
    os._exit(2)


def wait_for(command):
    while commands.get() != command:
        pass


def say(word):
    print(word, flush=True)


def make_lock(client, kind, path):
    if kind == "lock":
        return client.Lock(path, "kazoo")
    if kind == "write":
        return client.WriteLock(path, "kazoo")
    if kind == "read":
        return client.ReadLock(path, "kazoo")
    sys.stderr.write("unknown lock kind %r\n" % kind)
    sys.exit(4)


def write_atomically(path, text):
    temporary = "%s.kazoo-%d" % (path, os.getpid())
    with open(temporary, "w") as f:
        f.write(text)
    os.rename(temporary, path)


def one_increment(directory):
    holder = os.path.join(directory, "holder")
    try:
        fd = os.open(holder, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        with open(holder) as f:
            other = f.read()
        sys.stderr.write("kazoo %d got the lock while %s held it\n" % (os.getpid(), other))
        os._exit(3)
    os.write(fd, ("kazoo pid %d" % os.getpid()).encode())
    os.close(fd)
    counter = os.path.join(directory, "counter")
    with open(counter) as f:
        seen = int(f.read())
    time.sleep(0.001)
    write_atomically(counter, str(seen + 1))
    os.remove(holder)


def main():
    if len(sys.argv) < 5:
        sys.stderr.write(__doc__)
        sys.exit(4)
    mode, hosts, path, kind = sys.argv[1:5]
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    threading.Thread(target=watch_stdin, daemon=True).start()

    client = KazooClient(hosts=hosts, timeout=10.0)
    client.start(timeout=30)
    lock = make_lock(client, kind, path)

    if mode == "count":
        directory, cycles = sys.argv[5], int(sys.argv[6])
        for _ in range(cycles):
            lock.acquire()
            try:
                one_increment(directory)
            finally:
                lock.release()
        say("done")
    elif mode == "hold":
        lock.acquire()
        say("held")
        wait_for("release")
        lock.release()
        say("released")
    elif mode == "serve":
        while True:
            command = commands.get()
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
        sys.stderr.write("unknown mode %r\n" % mode)
        sys.exit(4)

    client.stop()
    client.close()


if __name__ == "__main__":
    main()
