// A Curator LeaderLatch candidate driven by zk-election's interop tests
// (crates/zk-election/tests/it/interop.rs), which compile it with javac against the Debian
// `libcurator-recipes-java` jars, together with zk-testkit's HelperSupport (the connection,
// the standard input and output, the shared counter).
//
// usage: java CuratorLatch MODE HOSTS ELECTION_PATH ID [DIR CYCLES]
//
// MODE is one of:
//   count  CYCLES times: start a new LeaderLatch and await leadership; while leading create
//          DIR/holder exclusively (it must not exist: another leader at the same time would
//          have made it), read the number in DIR/counter, sleep 1 ms, write the number plus
//          one, remove DIR/holder, and close the latch. Prints `done` at the end.
//   serve  one LeaderLatch for the process's life, driven by lines on standard input:
//            start         start the latch; prints `leading` once it has leadership (and
//                          `not-leading` if it loses it)
//            close         close the latch (its node is deleted); prints `closed`
//            leader        prints `leader ID` for getLeader(), or `none` when nobody leads
//            participants  prints `participants ID,ID,...` (getParticipants(), in order)
//            quit          exit
//
// Standard input closing means the test is gone: the process exits at once.
// Exit status: 0 done, 2 standard input closed, 3 two leaders seen at once, 4 bad usage,
// 5 no connection.

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.leader.Participant;

public final class CuratorLatch {
    public static void main(String[] args) throws Exception {
        CuratorFramework client = HelperSupport.start(args, args.length >= 4,
                "usage: CuratorLatch MODE HOSTS ELECTION_PATH ID [DIR CYCLES]");
        String mode = args[0];
        String path = args[2];
        String id = args[3];

        switch (mode) {
            case "count": {
                Path dir = Paths.get(args[4]);
                int cycles = Integer.parseInt(args[5]);
                for (int i = 0; i < cycles; i++) {
                    LeaderLatch latch = new LeaderLatch(client, path, id);
                    latch.start();
                    latch.await();
                    if (!latch.hasLeadership()) {
                        System.err.println("await returned without leadership");
                        System.exit(3);
                    }
                    HelperSupport.bumpCounter(dir, id,
                            other -> id + " was elected while " + other + " led");
                    latch.close();
                }
                HelperSupport.say("done");
                break;
            }
            case "serve":
                serve(new LeaderLatch(client, path, id));
                break;
            default:
                throw HelperSupport.badUsage("unknown mode " + mode);
        }
        HelperSupport.finish(client);
    }

    private static void serve(LeaderLatch latch) throws Exception {
        latch.addListener(new LeaderLatchListener() {
            @Override
            public void isLeader() {
                HelperSupport.say("leading");
            }

            @Override
            public void notLeader() {
                HelperSupport.say("not-leading");
            }
        });
        while (true) {
            String command = HelperSupport.next();
            switch (command) {
                case "start":
                    latch.start();
                    break;
                case "close":
                    latch.close();
                    HelperSupport.say("closed");
                    break;
                case "leader": {
                    Participant leader = latch.getLeader();
                    HelperSupport.say(leader.isLeader() ? "leader " + leader.getId() : "none");
                    break;
                }
                case "participants": {
                    List<String> ids = new ArrayList<>();
                    for (Participant p : latch.getParticipants()) {
                        ids.add(p.getId());
                    }
                    HelperSupport.say("participants " + String.join(",", ids));
                    break;
                }
                case "quit":
                    return;
                default:
                    throw HelperSupport.badUsage("unknown command " + command);
            }
        }
    }
}
