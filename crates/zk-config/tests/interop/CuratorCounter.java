// A Curator SharedCount driven by zk-config's interop tests
// (crates/zk-config/tests/it/interop.rs), which compile it with javac against the Debian
// `libcurator-recipes-java` jars, together with zk-testkit's HelperSupport (the connection,
// the standard input and output).
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

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.framework.recipes.shared.VersionedValue;

public final class CuratorCounter {
    public static void main(String[] args) throws Exception {
        CuratorFramework client = HelperSupport.start(args,
                args.length == 4 && args[0].equals("add"),
                "usage: CuratorCounter add HOSTS PATH COUNT");
        String path = args[2];
        int count = Integer.parseInt(args[3]);

        SharedCount counter = new SharedCount(client, path, 0);
        counter.start();
        HelperSupport.say("ready " + counter.getCount());
        HelperSupport.waitFor("go");
        for (int i = 0; i < count; i++) {
            VersionedValue<Integer> seen = counter.getVersionedValue();
            while (!counter.trySetCount(seen, seen.getValue() + 1)) {
                seen = counter.getVersionedValue();
            }
        }
        HelperSupport.say("done");
        HelperSupport.waitFor("read");
        SharedCount fresh = new SharedCount(client, path, 0);
        fresh.start();
        HelperSupport.say("value " + fresh.getCount());
        fresh.close();
        counter.close();
        HelperSupport.finish(client);
    }
}
