// A Curator service discovery (curator-x-discovery) participant driven by zk-registry's interop
// tests (crates/zk-registry/tests/it/interop.rs), which compile it with javac against the Debian
// `libcurator-recipes-java` and `libcurator-discovery-java` jars.
//
// usage: java CuratorDiscovery MODE HOSTS BASE SERVICE ARGS...
//
// Every mode builds a ServiceDiscovery under BASE whose payload is a Map, written and read by
// `new JsonInstanceSerializer<>(Map.class)` (Curator's JSON, the format zk-registry reads).
// MODE is one of:
//   register ID PORT ZONE  registers the instance ID of SERVICE at 127.0.0.1:PORT with the
//                          payload {"zone": ZONE}, writes its node's JSON to standard error,
//                          prints `registered`; on a `stop` line unregisters it and prints
//                          `stopped`.
//   discover N             starts a ServiceCache on SERVICE and waits (15 s at most) until it
//                          holds exactly N instances, then prints them as below.
//   query                  reads SERVICE once with queryForInstances, then prints them as below.
//   provide N PICKS        starts a round-robin ServiceProvider on SERVICE, waits (15 s at most)
//                          until it has N instances, then prints `picked ID` PICKS times, one
//                          getInstance() each, and `done`.
// `discover` and `query` print one `instance ID ADDRESS PORT ZONE` line per instance, sorted by
// id (`-` for a missing port or zone), then `done`.
//
// Standard input closing means the test is gone: the process exits at once.
// Exit status: 0 done, 2 standard input closed, 3 the instances never matched, 4 bad usage,
// 5 no connection.

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.x.discovery.ServiceCache;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.ServiceProvider;
import org.apache.curator.x.discovery.details.JsonInstanceSerializer;
import org.apache.curator.x.discovery.strategies.RoundRobinStrategy;

@SuppressWarnings({"rawtypes", "unchecked"})
public final class CuratorDiscovery {
    private static final CountDownLatch STOP = new CountDownLatch(1);
    private static final long WAIT_MS = 15_000;

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            usage();
        }
        String mode = args[0];
        String hosts = args[1];
        String base = args[2];
        String service = args[3];
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
        ServiceDiscovery<Map> discovery = ServiceDiscoveryBuilder.builder(Map.class)
                .client(client)
                .basePath(base)
                .serializer(new JsonInstanceSerializer<>(Map.class))
                .build();
        discovery.start();

        switch (mode) {
            case "register": {
                if (args.length != 7) {
                    usage();
                }
                Map<String, String> payload = new LinkedHashMap<>();
                payload.put("zone", args[6]);
                ServiceInstance<Map> instance = ServiceInstance.<Map>builder()
                        .name(service)
                        .id(args[4])
                        .address("127.0.0.1")
                        .port(Integer.parseInt(args[5]))
                        .payload(payload)
                        .build();
                discovery.registerService(instance);
                String node = base + "/" + service + "/" + args[4];
                System.err.println("curator wrote " + node + ": "
                        + new String(client.getData().forPath(node), StandardCharsets.UTF_8));
                System.err.flush();
                say("registered");
                STOP.await();
                discovery.unregisterService(instance);
                say("stopped");
                break;
            }
            case "discover": {
                if (args.length != 5) {
                    usage();
                }
                int want = Integer.parseInt(args[4]);
                ServiceCache<Map> cache = discovery.serviceCacheBuilder().name(service).build();
                cache.start();
                printAll(waitFor(want, cache::getInstances));
                cache.close();
                break;
            }
            case "query": {
                if (args.length != 4) {
                    usage();
                }
                printAll(discovery.queryForInstances(service));
                break;
            }
            case "provide": {
                if (args.length != 6) {
                    usage();
                }
                int want = Integer.parseInt(args[4]);
                int picks = Integer.parseInt(args[5]);
                ServiceProvider<Map> provider = discovery.serviceProviderBuilder()
                        .serviceName(service)
                        .providerStrategy(new RoundRobinStrategy<>())
                        .build();
                provider.start();
                waitFor(want, () -> {
                    try {
                        return provider.getAllInstances();
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                for (int i = 0; i < picks; i++) {
                    ServiceInstance<Map> picked = provider.getInstance();
                    say("picked " + (picked == null ? "-" : picked.getId()));
                }
                say("done");
                provider.close();
                break;
            }
            default:
                usage();
        }
        discovery.close();
        client.close();
        System.exit(0);
    }

    // Polls `instances` until it holds exactly `want`; exits with 3 after WAIT_MS.
    private static Collection<ServiceInstance<Map>> waitFor(
            int want, Supplier<Collection<ServiceInstance<Map>>> instances) throws Exception {
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (true) {
            Collection<ServiceInstance<Map>> seen = instances.get();
            if (seen.size() == want) {
                return seen;
            }
            if (System.currentTimeMillis() > deadline) {
                System.err.println("wanted " + want + " instances, still seeing " + seen);
                System.err.flush();
                Runtime.getRuntime().halt(3);
            }
            Thread.sleep(20);
        }
    }

    private static void printAll(Collection<ServiceInstance<Map>> instances) {
        List<ServiceInstance<Map>> sorted = new ArrayList<>(instances);
        sorted.sort(Comparator.comparing(ServiceInstance::getId));
        for (ServiceInstance<Map> instance : sorted) {
            Map payload = instance.getPayload();
            Object zone = payload == null ? null : payload.get("zone");
            say("instance " + instance.getId() + " " + instance.getAddress() + " "
                    + orDash(instance.getPort()) + " " + orDash(zone));
        }
        say("done");
    }

    private static String orDash(Object value) {
        return value == null ? "-" : value.toString();
    }

    private static void usage() {
        System.err.println("usage: CuratorDiscovery register HOSTS BASE SERVICE ID PORT ZONE"
                + " | discover HOSTS BASE SERVICE N | query HOSTS BASE SERVICE"
                + " | provide HOSTS BASE SERVICE N PICKS");
        System.exit(4);
    }

    private static void watchStdin() {
        Thread watcher = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.trim().equals("stop")) {
                        STOP.countDown();
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

    private static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
