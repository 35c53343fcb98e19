// A Curator SharedCount driven by zk-config's interop tests
// (crates/zk-config/tests/it/interop.rs), which compile it with javac against the Debian
// `libcurator-recipes-java` jars.
//
// usage: java CuratorCounter add HOSTS PATH COUNT
//
// Starts a SharedCount on PATH with seed 0 (created with the seed if absent; an empty node
// cannot be read, so the test writes the 4-byte 0 first), then, driven by lines on standard
// input:
//   1. prints `ready VALUE`;
//   2. on `go`: adds 1 COUNT times, each by compare-and-set (getVersionedValue, then
//      trySetCount of it plus one, again until it wins), then prints `done`;
//   3. on `read`: reads PATH through a newly started SharedCount (the first one's value may
//      trail the server by a watch event), prints `value VALUE` and exits.
//
// Standard input closing means the test is gone: the process exits at once.
// Exit status: 0 done, 2 standard input closed, 4 bad usage, 5 no connection.

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.framework.recipes.shared.VersionedValue;
import org.apache.curator.retry.ExponentialBackoffRetry;

public final class CuratorCounter {
    private static final BlockingQueue<String> COMMANDS = new LinkedBlockingQueue<>();

    public static void main(String[] args) throws Exception {
        if (args.length != 4 || !args[0].equals("add")) {
            System.err.println("usage: CuratorCounter add HOSTS PATH COUNT");
            System.exit(4);
        }
        String hosts = args[1];
        String path = args[2];
        int count = Integer.parseInt(args[3]);
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

        SharedCount counter = new SharedCount(client, path, 0);
        counter.start();
        say("ready " + counter.getCount());
        waitFor("go");
        for (int i = 0; i < count; i++) {
            VersionedValue<Integer> seen = counter.getVersionedValue();
            while (!counter.trySetCount(seen, seen.getValue() + 1)) {
                seen = counter.getVersionedValue();
            }
        }
        say("done");
        waitFor("read");
        SharedCount fresh = new SharedCount(client, path, 0);
        fresh.start();
        say("value " + fresh.getCount());
        fresh.close();
        counter.close();
        client.close();
        System.exit(0);
    }

    private static void waitFor(String want) throws InterruptedException {
        String command = COMMANDS.take();
        if (!command.equals(want)) {
            System.err.println("expected " + want + ", got " + command);
            System.exit(4);
        }
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

    private static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
