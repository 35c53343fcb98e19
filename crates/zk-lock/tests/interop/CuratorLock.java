// A Curator lock contender driven by zk-lock's interop tests
// (crates/zk-lock/tests/it/interop.rs), which compile it with javac against the Debian
// `libcurator-recipes-java` jars.
//
// usage: java CuratorLock MODE HOSTS LOCK_PATH KIND [DIR CYCLES]
//
// KIND is `lock` (InterProcessMutex), `write` or `read` (the two sides of an
// InterProcessReadWriteLock). MODE is one of:
//   count  CYCLES times: acquire, create DIR/holder exclusively (it must not exist: someone
//          else holding the lock at the same time would have made it), read the number in
//          DIR/counter, sleep 1 ms, write the number plus one, remove DIR/holder, release.
//          Prints `done` at the end.
//   hold   acquire (waiting as long as it takes), print `held`, wait for a `release` line on
//          standard input, release, print `released`.
//   try    acquire(0, MILLISECONDS); print `acquired` (and release) or `blocked`.
//
// Standard input closing means the test is gone: the process exits at once.
// Exit status: 0 done, 2 standard input closed, 3 two holders seen at once, 4 bad usage,
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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.locks.InterProcessLock;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.curator.retry.ExponentialBackoffRetry;

public final class CuratorLock {
    private static final CountDownLatch RELEASE = new CountDownLatch(1);
    private static final long PID = ProcessHandle.current().pid();

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            System.err.println("usage: CuratorLock MODE HOSTS LOCK_PATH KIND [DIR CYCLES]");
            System.exit(4);
        }
        String mode = args[0];
        String hosts = args[1];
        String path = args[2];
        String kind = args[3];
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
        InterProcessLock lock = makeLock(client, kind, path);

        switch (mode) {
            case "count": {
                Path dir = Paths.get(args[4]);
                int cycles = Integer.parseInt(args[5]);
                for (int i = 0; i < cycles; i++) {
                    lock.acquire();
                    try {
                        oneIncrement(dir);
                    } finally {
                        lock.release();
                    }
                }
                say("done");
                break;
            }
            case "hold":
                lock.acquire();
                say("held");
                RELEASE.await();
                lock.release();
                say("released");
                break;
            case "try":
                if (lock.acquire(0, TimeUnit.MILLISECONDS)) {
                    say("acquired");
                    lock.release();
                } else {
                    say("blocked");
                }
                break;
            default:
                System.err.println("unknown mode " + mode);
                System.exit(4);
        }
        client.close();
        System.exit(0);
    }

    private static InterProcessLock makeLock(CuratorFramework client, String kind, String path) {
        switch (kind) {
            case "lock":
                return new InterProcessMutex(client, path);
            case "write":
                return new InterProcessReadWriteLock(client, path).writeLock();
            case "read":
                return new InterProcessReadWriteLock(client, path).readLock();
            default:
                System.err.println("unknown lock kind " + kind);
                System.exit(4);
                return null;
        }
    }

    private static void oneIncrement(Path dir) throws Exception {
        Path holder = dir.resolve("holder");
        try {
            Files.write(holder, ("curator pid " + PID).getBytes(StandardCharsets.UTF_8),
                    StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (FileAlreadyExistsException e) {
            String other = new String(Files.readAllBytes(holder), StandardCharsets.UTF_8);
            System.err.println("curator " + PID + " got the lock while " + other + " held it");
            System.err.flush();
            Runtime.getRuntime().halt(3);
        }
        Path counter = dir.resolve("counter");
        int seen = Integer.parseInt(new String(Files.readAllBytes(counter), StandardCharsets.UTF_8).trim());
        Thread.sleep(1);
        Path temporary = dir.resolve("counter.curator-" + PID);
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
                    if (line.trim().equals("release")) {
                        RELEASE.countDown();
                    }
                }
            } catch (Exception e) {
                // The same as end of input.
            }
            Runtime.getRuntime().halt(2);
        });
        watcher.setDaemon(true);
        watcher.start();
    }

    private static void say(String word) {
        System.out.println(word);
        System.out.flush();
    }
}
