// A Curator service discovery (curator-x-discovery) participant driven by zk-registry's interop
// tests (crates/zk-registry/tests/it/interop.rs), which compile it with javac against the Debian
// `libcurator-recipes-java` and `libcurator-discovery-java` jars, together with zk-testkit's
// HelperSupport (the connection, the standard input and output).
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

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.x.discovery.ServiceCache;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.ServiceProvider;
import org.apache.curator.x.discovery.details.JsonInstanceSerializer;
import org.apache.curator.x.discovery.strategies.RoundRobinStrategy;

@SuppressWarnings({"rawtypes", "unchecked"})
public final class CuratorDiscovery {
    private static final long WAIT_MS = 15_000;
    private static final String USAGE =
            "usage: CuratorDiscovery register HOSTS BASE SERVICE ID PORT ZONE"
            + " | discover HOSTS BASE SERVICE N | query HOSTS BASE SERVICE"
            + " | provide HOSTS BASE SERVICE N PICKS";

    public static void main(String[] args) throws Exception {
        CuratorFramework client = HelperSupport.start(args, args.length >= 4, USAGE);
        String mode = args[0];
        String base = args[2];
        String service = args[3];
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
                HelperSupport.say("registered");
                HelperSupport.skipTo("stop");
                discovery.unregisterService(instance);
                HelperSupport.say("stopped");
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
                    HelperSupport.say("picked " + (picked == null ? "-" : picked.getId()));
                }
                HelperSupport.say("done");
                provider.close();
                break;
            }
            default:
                usage();
        }
        discovery.close();
        HelperSupport.finish(client);
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
                HelperSupport.halt(3, "wanted " + want + " instances, still seeing " + seen);
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
            HelperSupport.say("instance " + instance.getId() + " " + instance.getAddress() + " "
                    + orDash(instance.getPort()) + " " + orDash(zone));
        }
        HelperSupport.say("done");
    }

    private static String orDash(Object value) {
        return value == null ? "-" : value.toString();
    }

    private static void usage() {
        throw HelperSupport.badUsage(USAGE);
    }
}
