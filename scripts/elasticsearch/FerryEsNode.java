import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.transport.Netty4Plugin;

/**
 * A single-node Elasticsearch for ferry's tests, from the Maven Central jars: the server's Node
 * with its HTTP transport (Netty4Plugin), the reindex module (_delete_by_query) and the
 * mapper-extras module (scaled_float) as classpath plugins. Elasticsearch's own distribution is not on Maven Central, so its launcher is replaced
 * by this main. Started by scripts/elasticsearch.sh, which passes the -Dferry.es.* properties.
 */
public final class FerryEsNode extends Node {
    private FerryEsNode(Environment env, List<Class<? extends Plugin>> plugins) {
        super(env, plugins, true);
    }

    public static void main(String[] args) throws Exception {
        Path home = Paths.get(System.getProperty("ferry.es.home", "es-home")).toAbsolutePath();
        String host = System.getProperty("ferry.es.host", "127.0.0.1");
        String port = System.getProperty("ferry.es.port", "9200");
        Settings settings = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("cluster.name", "ferry-test")
            .put("node.name", "ferry-es")
            .put("discovery.type", "single-node")
            .put("network.host", host)
            .put("http.port", port)
            .put("transport.port", System.getProperty("ferry.es.transport.port", "9300-9399"))
            .put("http.type", Netty4Plugin.NETTY_HTTP_TRANSPORT_NAME)
            .put("transport.type", Netty4Plugin.NETTY_TRANSPORT_NAME)
            // A test machine's disk may be fuller than the watermarks allow: indexes would turn read-only.
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .build();
        Environment env = InternalSettingsPreparer.prepareEnvironment(settings, Collections.emptyMap(), null, () -> "ferry-es");
        List<Class<? extends Plugin>> plugins = new ArrayList<>();
        plugins.add(Netty4Plugin.class);
        for (String name : System.getProperty("ferry.es.plugins", "org.elasticsearch.reindex.ReindexPlugin,org.elasticsearch.index.mapper.MapperExtrasPlugin").split(",")) {
            if (!name.isBlank()) plugins.add(Class.forName(name.trim()).asSubclass(Plugin.class));
        }
        FerryEsNode node = new FerryEsNode(env, plugins);
        CountDownLatch closed = new CountDownLatch(1);
        // SIGTERM closes the node cleanly (flushes its translog), so a stop never costs a recovery.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            }
            closed.countDown();
        }, "ferry-es-shutdown"));
        node.start();
        System.out.println("started http://" + host + ":" + port);
        closed.await();
    }
}
