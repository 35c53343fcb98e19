// What every Curator helper of the interop tests shares: zk-testkit's interop harness
// (crates/zk-testkit/src/interop/javac.rs) compiles this file together with each helper, in
// the default package, so a helper calls `HelperSupport.say("held")` without an import.
//
// A helper's skeleton: `start(args, usable, usage)` (its usage checked, standard input watched,
// a client connected), then its recipe, reading commands with `next()`, `waitFor(word)` or
// `skipTo(word)` and answering with `say(line)`, then `finish(client)`.
//
// Exit statuses it uses: 2 standard input closed, 3 `bumpCounter` caught two holders at once,
// 4 bad usage (`badUsage`, or an unexpected command in `waitFor`), 5 no connection.

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;

public final class HelperSupport {
    private static final BlockingQueue<String> COMMANDS = new LinkedBlockingQueue<>();

    private HelperSupport() {
    }

    // The start of a helper whose arguments are MODE HOSTS PATH and then its own, as the harness
    // passes them: exits with 4 and `usage` unless `usable`, then `watchStdin()`, then returns
    // `connect(HOSTS)`.
    public static CuratorFramework start(String[] args, boolean usable, String usage)
            throws InterruptedException {
        if (!usable) {
            throw badUsage(usage);
        }
        watchStdin();
        return connect(args[1]);
    }

    // Starts a daemon thread that queues each line of standard input, trimmed, for `next()`,
    // and ends the process with status 2 when standard input closes (the test is gone).
    public static void watchStdin() {
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

    // A started CuratorFramework on `hosts` (10 s session and connection timeouts, exponential
    // back-off from 50 ms, 10 retries), connected within 30 s; exits with 5 when it is not.
    public static CuratorFramework connect(String hosts) throws InterruptedException {
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
        return client;
    }

    // Closes `client` and exits with 0: the helper's work is done.
    public static void finish(CuratorFramework client) {
        client.close();
        System.exit(0);
    }

    // Prints one answer line and flushes it; safe from listener threads.
    public static synchronized void say(String line) {
        System.out.println(line);
        System.out.flush();
    }

    // The next command from standard input, waiting for it.
    public static String next() throws InterruptedException {
        return COMMANDS.take();
    }

    // Takes the next command, which must be `want`: anything else exits with 4.
    public static void waitFor(String want) throws InterruptedException {
        String command = next();
        if (!command.equals(want)) {
            System.err.println("expected " + want + ", got " + command);
            System.exit(4);
        }
    }

    // Takes commands until `want`, ignoring any other.
    public static void skipTo(String want) throws InterruptedException {
        while (!next().equals(want)) {
            // Not the one it waits for.
        }
    }

    // Writes `message` to standard error and exits with 4 (bad usage). It never returns: the
    // exception is there for `throw HelperSupport.badUsage(...)` where Java wants a value.
    public static RuntimeException badUsage(String message) {
        System.err.println(message);
        System.exit(4);
        return new IllegalStateException("exited");
    }

    // Writes `message` to standard error and halts at once with `status`, from any thread.
    public static void halt(int status, String message) {
        System.err.println(message);
        System.err.flush();
        Runtime.getRuntime().halt(status);
    }

    // One increment of zk-testkit's SharedCounter in `dir` by `me`, who must hold the recipe:
    // create DIR/holder exclusively with `me` in it (when it exists someone else holds at the
    // same time: halts with 3 and `caught` of the other holder's text), read the number in
    // DIR/counter, sleep 1 ms, write the number plus one through a temporary file and a
    // rename, remove DIR/holder.
    public static void bumpCounter(Path dir, String me, Function<String, String> caught)
            throws Exception {
        Path holder = dir.resolve("holder");
        try {
            Files.write(holder, me.getBytes(StandardCharsets.UTF_8),
                    StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (FileAlreadyExistsException e) {
            String other = new String(Files.readAllBytes(holder), StandardCharsets.UTF_8);
            halt(3, caught.apply(other));
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
}
