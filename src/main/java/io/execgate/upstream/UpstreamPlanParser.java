package io.execgate.upstream;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.TreeMap;
import java.util.regex.Pattern;

import io.execgate.upstream.UpstreamPlan.Binary;
import io.execgate.upstream.UpstreamPlan.InvalidUpstream;
import io.execgate.upstream.UpstreamPlan.Listen;
import io.execgate.upstream.UpstreamPlan.Pipes;
import org.jspecify.annotations.Nullable;

/** The rules of {@link UpstreamPlan#parse}. */
final class UpstreamPlanParser {

    private static final String LISTEN = UpstreamPlan.LISTEN;

    private UpstreamPlanParser() {
    }

    /**
     * Parses the members of {@code io}; null when none is set.
     *
     * @param tty whether the exec has a terminal, which has no stderr
     */
    static @Nullable UpstreamPlan parse(@Nullable String stdin, @Nullable String stdout, @Nullable String stderr,
            @Nullable Integer retryTimeoutSeconds, boolean tty) {
        if (stdin == null && stdout == null && stderr == null) {
            if (retryTimeoutSeconds != null) {
                throw new InvalidUpstream("io.retryTimeoutSeconds", "applies to stdout and stderr pipes; none is set");
            }
            return null;
        }
        if (tty && stderr != null) {
            throw new InvalidUpstream("io.stderr", "an exec with a terminal has no stderr (it is merged into stdout)");
        }
        if (LISTEN.equals(stdin) || LISTEN.equals(stdout) || LISTEN.equals(stderr)) {
            requireAll(LISTEN, "io.stdin", stdin);
            requireAll(LISTEN, "io.stdout", stdout);
            requireAll(LISTEN, "io.stderr", stderr);
            if (retryTimeoutSeconds != null) {
                throw new InvalidUpstream("io.retryTimeoutSeconds", "applies to pipe paths, not to listen");
            }
            return new Listen(stdin != null, stdout != null, stderr != null);
        }
        if (stdout != null && hasScheme(stdout)) {
            Binary binary = binary(stdout);
            if (stdin != null) {
                throw new InvalidUpstream("io.stdin", "a logging driver takes stdout and stderr only; leave stdin out");
            }
            if (stderr != null && !stderr.equals(stdout)) {
                throw new InvalidUpstream("io.stderr", "a logging driver takes both stdout and stderr; leave stderr out "
                        + "or set it to the same URI");
            }
            if (retryTimeoutSeconds != null) {
                throw new InvalidUpstream("io.retryTimeoutSeconds", "applies to pipe paths, not to a logging driver");
            }
            return binary;
        }
        Duration retry = retryTimeoutSeconds == null || retryTimeoutSeconds == 0 ? null
                : Duration.ofSeconds(retryTimeoutSeconds);
        return new Pipes(pipe("io.stdin", stdin), pipe("io.stdout", stdout), pipe("io.stderr", stderr), retry);
    }

    private static void requireAll(String mode, String field, @Nullable String value) {
        if (value != null && !value.equals(mode)) {
            throw new InvalidUpstream(field, "cannot mix listen with pipe paths or a logging driver: set every "
                    + "stream you want to \"listen\" or leave it out");
        }
    }

    private static final Pattern SCHEME = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]*:.*", Pattern.DOTALL);

    private static boolean hasScheme(String value) {
        return SCHEME.matcher(value).matches();
    }

    private static @Nullable Path pipe(String field, @Nullable String value) {
        if (value == null) {
            return null;
        }
        if (value.startsWith("\\\\")) {
            throw new InvalidUpstream(field, "Windows named pipes (\\\\.\\pipe\\...) need execgate on Windows; "
                    + "on Linux name a FIFO by its absolute path");
        }
        if (hasScheme(value)) {
            throw new InvalidUpstream(field, "a URI is only taken in io.stdout, and its scheme must be binary");
        }
        if (!value.startsWith("/") || value.indexOf('\0') >= 0) {
            throw new InvalidUpstream(field, "must be the absolute path of a FIFO, \"listen\", or (stdout) a "
                    + "binary:// URI: " + value);
        }
        return path(field, value);
    }

    /** A path the file system can name: not one with text it cannot encode (an unpaired surrogate, say). */
    private static Path path(String field, String value) {
        try {
            return Path.of(value).normalize();
        } catch (InvalidPathException e) {
            throw new InvalidUpstream(field, "not a path this system can name: " + e.getReason());
        }
    }

    /**
     * {@code binary:///abs/path?key=value}: the executable is the URI's path (no host, not relative, not UNC);
     * the arguments are the query's keys in sorted order, each followed by its first value when that is not empty.
     */
    private static Binary binary(String value) {
        URI uri;
        try {
            uri = new URI(value);
        } catch (URISyntaxException e) {
            throw new InvalidUpstream("io.stdout", "not a valid URI: " + e.getMessage());
        }
        if (!"binary".equals(uri.getScheme().toLowerCase(Locale.ROOT))) {
            throw new InvalidUpstream("io.stdout", "the scheme must be binary, got " + uri.getScheme());
        }
        if (uri.isOpaque()) {
            throw new InvalidUpstream("io.stdout", "the logging driver must be an absolute path: binary:///path/to/driver");
        }
        if (uri.getRawAuthority() != null && !uri.getRawAuthority().isEmpty()) {
            throw new InvalidUpstream("io.stdout", "a host is not allowed in a binary:// URI (" + uri.getRawAuthority()
                    + "); write binary:///path/to/driver");
        }
        String path = uri.getPath();
        if (path == null || path.isEmpty() || path.equals("/")) {
            throw new InvalidUpstream("io.stdout", "no logging driver path provided");
        }
        if (path.startsWith("//")) {
            throw new InvalidUpstream("io.stdout", "a UNC path is unsafe: " + path);
        }
        if (!path.startsWith("/") || path.indexOf('\0') >= 0) {
            throw new InvalidUpstream("io.stdout", "the logging driver must be an absolute path");
        }
        TreeMap<String, String> query = new TreeMap<>();
        if (uri.getRawQuery() != null) {
            for (String part : uri.getRawQuery().split("&")) {
                if (part.isEmpty()) {
                    continue;
                }
                int eq = part.indexOf('=');
                String key = decode(eq < 0 ? part : part.substring(0, eq));
                String val = eq < 0 ? "" : decode(part.substring(eq + 1));
                query.putIfAbsent(key, val); // a repeated key keeps its first value, as hcsshim does
            }
        }
        return new Binary(path("io.stdout", path), query, value);
    }

    private static String decode(String text) {
        try {
            return URLDecoder.decode(text, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new InvalidUpstream("io.stdout", "bad escape in the query: " + text);
        }
    }
}
