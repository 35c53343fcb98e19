"""A kazoo Election candidate driven by zk-election's interop tests
(crates/zk-election/tests/it/interop.rs), on zk-testkit's helper_support (the connection, the
standard input and output, the shared counter).

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

import sys
import threading

from helper_support import bad_usage, bump_counter, finish, next_command, say, start


def one_term(directory, me):
    bump_counter(directory, me, lambda other: "%s was elected while %s led" % (me, other))


def serve(election):
    resign = threading.Event()

    def lead():
        say("leading")
        resign.wait()

    def campaign():
        election.run(lead)
        say("resigned")

    while True:
        command = next_command()
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
            bad_usage("unknown command %r" % command)


def main():
    client = start(len(sys.argv) >= 5, __doc__)
    mode, _, path, me = sys.argv[1:5]
    election = client.Election(path, me)

    if mode == "count":
        directory, cycles = sys.argv[5], int(sys.argv[6])
        for _ in range(cycles):
            election.run(one_term, directory, me)
        say("done")
    elif mode == "serve":
        serve(election)
    else:
        bad_usage("unknown mode %r" % mode)

    finish(client)


if __name__ == "__main__":
    main()
