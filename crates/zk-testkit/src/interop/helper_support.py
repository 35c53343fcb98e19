"""What every kazoo helper of the interop tests shares.

zk-testkit's interop harness (crates/zk-testkit/src/interop/) writes this module into a folder
of its own and puts that folder on each kazoo helper's PYTHONPATH, so a helper does
`import helper_support`.

A helper's skeleton: `start(usable, usage)` (its usage checked, standard input watched, a
client connected), then its recipe, reading commands with `next_command()`, `wait_for(word)`
or `skip_to(word)` and answering with `say(line)`, then `finish(client)`.

Exit statuses it uses: 2 standard input closed, 3 `bump_counter` caught two holders at once,
4 bad usage (`bad_usage`, or an unexpected command in `wait_for`).
"""

import logging
import os
import queue
import sys
import threading
import time

from kazoo.client import KazooClient

_commands = queue.Queue()
_printing = threading.Lock()


def _read_stdin():
    for line in sys.stdin:
        _commands.put(line.strip())
    os._exit(2)


def start(usable, usage, **options):
    """The start of a helper whose arguments are MODE HOSTS PATH and then its own, as the
    harness passes them: exits with 4 and `usage` unless `usable`, then `watch_stdin()`, then
    returns `connect(HOSTS, **options)`."""
    if not usable:
        bad_usage(usage)
    watch_stdin()
    return connect(sys.argv[2], **options)


def watch_stdin():
    """Starts a daemon thread that queues each line of standard input, stripped, for
    `next_command`, and ends the process with status 2 when standard input closes (the test
    is gone)."""
    threading.Thread(target=_read_stdin, daemon=True).start()


def connect(hosts, **options):
    """A started KazooClient on `hosts` (a 10 s session, `options` passed on to KazooClient),
    connected within 30 s, with kazoo's warnings logged to standard error."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    client = KazooClient(hosts=hosts, timeout=10.0, **options)
    client.start(timeout=30)
    return client


def finish(client):
    """Stops and closes `client` and exits with 0: the helper's work is done."""
    client.stop()
    client.close()
    sys.exit(0)


def say(line):
    """Prints one answer line and flushes it; safe from any thread."""
    with _printing:
        print(line, flush=True)


def next_command():
    """The next command from standard input, waiting for it."""
    return _commands.get()


def wait_for(want):
    """Takes the next command, which must be `want`: anything else exits with 4."""
    command = next_command()
    if command != want:
        sys.stderr.write("expected %r, got %r\n" % (want, command))
        sys.exit(4)


def skip_to(want):
    """Takes commands until `want`, ignoring any other."""
    while next_command() != want:
        pass


def bad_usage(message):
    """Writes `message` to standard error and exits with 4 (bad usage)."""
    sys.stderr.write(message if message.endswith("\n") else message + "\n")
    sys.exit(4)


def _write_atomically(path, text):
    temporary = "%s.kazoo-%d" % (path, os.getpid())
    with open(temporary, "w") as f:
        f.write(text)
    os.rename(temporary, path)


def bump_counter(directory, me, caught):
    """One increment of zk-testkit's SharedCounter in `directory` by `me`, who must hold the
    recipe: create DIR/holder exclusively with `me` in it (when it exists someone else holds
    at the same time: exits at once with 3 and `caught(other holder's text)` on standard
    error), read the number in DIR/counter, sleep 1 ms, write the number plus one through a
    temporary file and a rename, remove DIR/holder."""
    holder = os.path.join(directory, "holder")
    try:
        fd = os.open(holder, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        with open(holder) as f:
            other = f.read()
        sys.stderr.write(caught(other) + "\n")
        sys.stderr.flush()
        os._exit(3)
    os.write(fd, me.encode())
    os.close(fd)
    counter = os.path.join(directory, "counter")
    with open(counter) as f:
        seen = int(f.read())
    time.sleep(0.001)
    _write_atomically(counter, str(seen + 1))
    os.remove(holder)
