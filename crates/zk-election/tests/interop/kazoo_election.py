"""A kazoo Election candidate driven by zk-election's interop tests
(crates/zk-election/tests/it/interop.rs).

usage: kazoo_election.py MODE HOSTS ELECTION_PATH ID [DIR CYCLES]

MODE is one of:
  count  CYCLES times: win the election (Election.run), and while leading create DIR/holder
         exclusively (it must not exist: another leader at the same time would have made it),
         read the number in DIR/counter, sleep 1 ms, write the number plus one, remove
         DIR/holder, and step down. Prints `done` at the end.
  serve  one Election object for the process's life, driven by lines on standard input:
           campaign    run the election in a background thread; prints `leading` once
                       elected, and `resigned` once it stepped down
           resign      step down (the leader function returns)
           leader      prints `leader ID` for the first of Election.contenders(), or `none`
           contenders  prints `contenders ID,ID,...` (Election.contenders(), in order)
           quit        exit

Standard input closing means the test is gone: the process exits at once.
Exit status: 0 done, 2 standard input closed, 3 two leaders seen at once, 4 bad usage.
"""

import logging
import os
import queue
import sys
import threading
import time

from kazoo.client import KazooClient

commands = queue.Queue()
printing = threading.Lock()


def watch_stdin():
    for line in sys.stdin:
        commands.put(line.strip())
    os._exit(2)


def say(line):
    with printing:
        print(line, flush=True)


def write_atomically(path, text):
    temporary = "%s.kazoo-%d" % (path, os.getpid())
    with open(temporary, "w") as f:
        f.write(text)
    os.rename(temporary, path)


def one_term(directory, me):
    holder = os.path.join(directory, "holder")
    try:
        fd = os.open(holder, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        with open(holder) as f:
            other = f.read()
        sys.stderr.write("%s was elected while %s led\n" % (me, other))
        sys.stderr.flush()
        os._exit(3)
    os.write(fd, me.encode())
    os.close(fd)
    counter = os.path.join(directory, "counter")
    with open(counter) as f:
        seen = int(f.read())
    time.sleep(0.001)
    write_atomically(counter, str(seen + 1))
    os.remove(holder)


def serve(election):
    resign = threading.Event()

    def lead():
        say("leading")
        resign.wait()

    def campaign():
        election.run(lead)
        say("resigned")

    while True:
        command = commands.get()
        if command == "campaign":
            resign.clear()
            threading.Thread(target=campaign, daemon=True).start()
        elif command == "resign":
            resign.set()
        elif command == "leader":
            contenders = election.contenders()
            say("leader %s" % contenders[0] if contenders else "none")
        elif command == "contenders":
            say("contenders %s" % ",".join(election.contenders()))
        elif command == "quit":
            return
        else:
            sys.stderr.write("unknown command %r\n" % command)
            sys.exit(4)


def main():
    if len(sys.argv) < 5:
        sys.stderr.write(__doc__)
        sys.exit(4)
    mode, hosts, path, me = sys.argv[1:5]
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    threading.Thread(target=watch_stdin, daemon=True).start()

    client = KazooClient(hosts=hosts, timeout=10.0)
    client.start(timeout=30)
    election = client.Election(path, me)

    if mode == "count":
        directory, cycles = sys.argv[5], int(sys.argv[6])
        for _ in range(cycles):
            election.run(one_term, directory, me)
        say("done")
    elif mode == "serve":
        serve(election)
    else:
        sys.stderr.write("unknown mode %r\n" % mode)
        sys.exit(4)

    client.stop()
    client.close()


if __name__ == "__main__":
    main()
