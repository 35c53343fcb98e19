// A Curator LeaderLatch candidate driven by zk-election's interop tests
// (crates/zk-election/tests/it/interop.rs), which compile it with javac against the Debian
// `libcurator-recipes-java` jars.
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

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.recipes.leader.Participant;
import org.apache.curator.retry.ExponentialBackoffRetry;

public final class CuratorLatch {
    private static final BlockingQueue<String> COMMANDS = new LinkedBlockingQueue<>();

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: CuratorLatch MODE HOSTS ELECTION_PATH ID [DIR CYCLES]");
            System.exit(4);
        }
        String mode = args[0];
        String hosts = args[1];
        String path = args[2];
        String id = args[3];
        watchStdin();

        CuratorFramework client = CuratorFrameworkFactory.builder()
                .connectString(hosts)
                .sessionTimeoutMs(10_000)
                .connectionTimeoutMs(10_000)
                .retryPolicy(new ExponentialBackoffRetry(50, 10))
                .build();
        client.start();
        if (!client.blockUntilConnected(30, TimeUnit.SECONDS)) {
            System.err.println("no connection to " + hosts);
            System.exit(5);
        }

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
                    oneTerm(dir, id);
                    latch.close();
                }
                say("done");
                break;
            }
            case "serve":
                serve(new LeaderLatch(client, path, id));
                break;
            default:
                System.err.println("unknown mode " + mode);
                System.exit(4);
        }
        client.close();
        System.exit(0);
    }

    private static void serve(LeaderLatch latch) throws Exception {
        latch.addListener(new LeaderLatchListener() {
            @Override
            public void isLeader() {
                say("leading");
            }

            @Override
            public void notLeader() {
                say("not-leading");
            }
        });
        while (true) {
            String command = COMMANDS.take();
            switch (command) {
                case "start":
                    latch.start();
                    break;
                case "close":
                    latch.close();
                    say("closed");
                    break;
                case "leader": {
                    Participant leader = latch.getLeader();
                    say(leader.isLeader() ? "leader " + leader.getId() : "none");
                    break;
                }
                case "participants": {
                    List<String> ids = new ArrayList<>();
                    for (Participant p : latch.getParticipants()) {
                        ids.add(p.getId());
                    }
                    say("participants " + String.join(",", ids));
                    break;
                }
                case "quit":
                    return;
                default:
                    System.err.println("unknown command " + command);
                    System.exit(4);
            }
        }
    }

    private static void oneTerm(Path dir, String me) throws Exception {
        Path holder = dir.resolve("holder");
        try {
            Files.write(holder, me.getBytes(StandardCharsets.UTF_8),
                    StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (FileAlreadyExistsException e) {
            String other = new String(Files.readAllBytes(holder), StandardCharsets.UTF_8);
            System.err.println(me + " was elected while " + other + " led");
            System.err.flush();
            Runtime.getRuntime().halt(3);
        }
        Path counter = dir.resolve("counter");
        int seen = Integer.parseInt(
                new String(Files.readAllBytes(counter), StandardCharsets.UTF_8).trim());
        Thread.sleep(1);
        Path temporary = dir.resolve("counter.curator-" + ProcessHandle.current().pid());
        Files.write(temporary, Integer.toString(seen + 1).getBytes(StandardCharsets.UTF_8));
        Files.move(temporary, counter, StandardCopyOption.ATOMIC_MOVE);
        Files.delete(holder);
    }

    private static void watchStdin() {
        Thread watcher = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    COMMANDS.add(line.trim());
                }
            } catch (Exception e) {
                // The same as end of input.
            }
            Runtime.getRuntime().halt(2);
        });
        watcher.setDaemon(true);
        watcher.start();
    }

    private static synchronized void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
