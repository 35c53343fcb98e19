// A Curator InterProcessSemaphoreV2 participant driven by zk-semaphore's interop tests
// (crates/zk-semaphore/tests/it/interop.rs), which compile it with javac against the Debian
// `libcurator-recipes-java` jars, together with zk-testkit's HelperSupport (the connection,
// the standard input and output).
//
// usage: java CuratorSemaphore MODE HOSTS PATH PERMITS [DIR CYCLES]
//
// MODE is one of:
//   count  CYCLES times: acquire a lease, claim one of the PERMITS slot files DIR/slot-<i> by
//          creating it exclusively (all taken means more than PERMITS holders at once), hold it
//          for 1 ms, remove it, return the lease. Prints `done` at the end.
//   hold   acquire a lease (waiting as long as it takes), print `held`, wait for a `release`
//          line on standard input, return it, print `released`.
//   try    acquire(1, 0, MILLISECONDS); print `acquired` (and return it) or `blocked`.
//
// Standard input closing means the test is gone: the process exits at once.
// Exit status: 0 done, 2 standard input closed, 3 more holders than permits seen, 4 bad usage,
// 5 no connection.

import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.concurrent.TimeUnit;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;

public final class CuratorSemaphore {
    private static final long PID = ProcessHandle.current().pid();

    public static void main(String[] args) throws Exception {
        CuratorFramework client = HelperSupport.start(args, args.length >= 4,
                "usage: CuratorSemaphore MODE HOSTS PATH PERMITS [DIR CYCLES]");
        String mode = args[0];
        int permits = Integer.parseInt(args[3]);
        InterProcessSemaphoreV2 semaphore = new InterProcessSemaphoreV2(client, args[2], permits);

        switch (mode) {
            case "count": {
                Path dir = Paths.get(args[4]);
                int cycles = Integer.parseInt(args[5]);
                for (int i = 0; i < cycles; i++) {
                    Lease lease = semaphore.acquire();
                    try {
                        holdASlot(dir, permits);
                    } finally {
                        semaphore.returnLease(lease);
                    }
                }
                HelperSupport.say("done");
                break;
            }
            case "hold": {
                Lease lease = semaphore.acquire();
                HelperSupport.say("held");
                HelperSupport.skipTo("release");
                semaphore.returnLease(lease);
                HelperSupport.say("released");
                break;
            }
            case "try": {
                Collection<Lease> leases = semaphore.acquire(1, 0, TimeUnit.MILLISECONDS);
                if (leases != null) {
                    HelperSupport.say("acquired");
                    semaphore.returnAll(leases);
                } else {
                    HelperSupport.say("blocked");
                }
                break;
            }
            default:
                throw HelperSupport.badUsage("unknown mode " + mode);
        }
        HelperSupport.finish(client);
    }

    // Claims a free slot file for 1 ms; every slot taken means too many holders.
    private static void holdASlot(Path dir, int permits) throws Exception {
        byte[] me = ("curator pid " + PID).getBytes(StandardCharsets.UTF_8);
        for (int slot = 0; slot < permits; slot++) {
            Path file = dir.resolve("slot-" + slot);
            try {
                Files.write(file, me, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            } catch (FileAlreadyExistsException taken) {
                continue;
            }
            Thread.sleep(1);
            Files.delete(file);
            return;
        }
        HelperSupport.halt(3, "curator " + PID + " holds a lease while all " + permits
                + " slots are taken");
    }
}
