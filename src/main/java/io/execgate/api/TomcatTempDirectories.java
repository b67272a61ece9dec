package io.execgate.api;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.apache.catalina.Engine;
import org.apache.catalina.Lifecycle;
import org.apache.catalina.Server;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.core.Ordered;
import org.springframework.stereotype.Component;
import org.springframework.util.FileSystemUtils;

/**
 * Gives the embedded Tomcat one temporary directory, for its base directory and its document root, and removes it
 * when the service stops: with the beans, and again once Tomcat is destroyed (after them). Left to itself, Spring Boot
 * makes two directories in {@code java.io.tmpdir} at every start ({@code tomcat.<port>.*} and
 * {@code tomcat-docbase.<port>.*}) and removes neither, so a service started often, or a test run, fills
 * {@code /tmp}. A base directory an operator chose ({@code server.tomcat.basedir}) is left as it is.
 */
@Component
class TomcatTempDirectories implements WebServerFactoryCustomizer<TomcatServletWebServerFactory>, DisposableBean,
        Ordered {

    private static final Logger log = LoggerFactory.getLogger(TomcatTempDirectories.class);

    private @Nullable Path made; // guarded by this

    @Override
    public synchronized void customize(TomcatServletWebServerFactory factory) {
        try {
            if (made == null) {
                made = Files.createTempDirectory("execgate-tomcat-");
            }
            if (factory.getBaseDirectory() == null) {
                factory.setBaseDirectory(made.toFile());
            }
            factory.setDocumentRoot(Files.createDirectories(made.resolve("docbase")).toFile());
            factory.addContextCustomizers(context -> {
                Server server = ((Engine) context.getParent().getParent()).getService().getServer();
                server.addLifecycleListener(event -> {
                    if (Lifecycle.AFTER_DESTROY_EVENT.equals(event.getType())) {
                        forget();
                        remove();
                    }
                });
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make Tomcat's temporary directory in " + System.getProperty(
                    "java.io.tmpdir"), e);
        }
    }

    /** Removes it with the beans, which covers a server that never started; Tomcat's own end removes it again. */
    @Override
    public void destroy() {
        remove();
    }

    /** The directory, while the service has one. */
    synchronized @Nullable Path directory() {
        return made;
    }

    /**
     * Tomcat writes its first base directory into the JVM's {@code catalina.home} and {@code catalina.base}, and the
     * next Tomcat in the same JVM (a test's next context) would make that directory again: once this one is
     * destroyed, they no longer name it.
     */
    private synchronized void forget() {
        for (String property : new String[] {"catalina.home", "catalina.base"}) {
            if (made != null && made.toString().equals(System.getProperty(property))) {
                System.clearProperty(property);
            }
        }
    }

    private synchronized void remove() {
        if (made != null) {
            try {
                FileSystemUtils.deleteRecursively(made);
            } catch (IOException e) {
                log.debug("removing {} failed: {}", made, e.toString());
            }
        }
    }

    /** After Spring Boot's own settings, which set the base directory an operator configured. */
    @Override
    public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE;
    }
}
