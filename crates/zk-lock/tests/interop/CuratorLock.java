// A Curator lock contender driven by zk-lock's interop tests
// (crates/zk-lock/tests/it/interop.rs), which compile it with javac against the Debian
// `libcurator-recipes-java` jars, together with zk-testkit's HelperSupport (the connection,
// the standard input and output, the shared counter).
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

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.locks.InterProcessLock;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;

public final class CuratorLock {
    private static final long PID = ProcessHandle.current().pid();

    public static void main(String[] args) throws Exception {
        CuratorFramework client = HelperSupport.start(args, args.length >= 4,
                "usage: CuratorLock MODE HOSTS LOCK_PATH KIND [DIR CYCLES]");
        String mode = args[0];
        InterProcessLock lock = makeLock(client, args[3], args[2]);

        switch (mode) {
            case "count": {
                Path dir = Paths.get(args[4]);
                int cycles = Integer.parseInt(args[5]);
                for (int i = 0; i < cycles; i++) {
                    lock.acquire();
                    try {
                        HelperSupport.bumpCounter(dir, "curator pid " + PID,
                                other -> "curator " + PID + " got the lock while " + other
                                        + " held it");
                    } finally {
                        lock.release();
                    }
                }
                HelperSupport.say("done");
                break;
            }
            case "hold":
                lock.acquire();
                HelperSupport.say("held");
                HelperSupport.skipTo("release");
                lock.release();
                HelperSupport.say("released");
                break;
            case "try":
                if (lock.acquire(0, TimeUnit.MILLISECONDS)) {
                    HelperSupport.say("acquired");
                    lock.release();
                } else {
                    HelperSupport.say("blocked");
                }
                break;
            default:
                throw HelperSupport.badUsage("unknown mode " + mode);
        }
        HelperSupport.finish(client);
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
                throw HelperSupport.badUsage("unknown lock kind " + kind);
        }
    }
}
