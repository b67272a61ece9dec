package io.execgate.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.execgate.upstream.UpstreamPlan.Binary;
import io.execgate.upstream.UpstreamPlan.InvalidUpstream;
import io.execgate.upstream.UpstreamPlan.Listen;
import io.execgate.upstream.UpstreamPlan.Pipes;
import org.junit.jupiter.api.Test;

/** The three modes of {@code io}, and every mixture and bad URI refused with the member at fault. */
class UpstreamPlanTest {

    @Test
    void nothingSetIsNoPlan() {
        assertThat(UpstreamPlan.parse(null, null, null, null, false)).isNull();
    }

    @Test
    void pipePathsWithARetryTimeout() {
        assertThat(UpstreamPlan.parse("/run/in", "/run/out", "/run/err", 30, false)).isEqualTo(
                new Pipes(Path.of("/run/in"), Path.of("/run/out"), Path.of("/run/err"), Duration.ofSeconds(30)));
        assertThat(UpstreamPlan.parse(null, "/run/./x/../out", null, 0, false))
                .as("0 retries for ever; paths are normalised")
                .isEqualTo(new Pipes(null, Path.of("/run/out"), null, null));
        assertThat(UpstreamPlan.parse("/run/in", null, null, null, false).tiesStdin()).isTrue();
    }

    @Test
    void binaryUrisBecomeACommandLineWithSortedArguments() {
        Binary binary = (Binary) UpstreamPlan.parse(null, "binary:///usr/bin/logger?-tag=web&-v&dir=%2Fvar%2Flog&-tag=other",
                null, null, false);
        assertThat(binary.executable()).isEqualTo(Path.of("/usr/bin/logger"));
        assertThat(binary.arguments()).containsExactly("-tag", "web", "-v", "dir", "/var/log");
        assertThat(((Binary) UpstreamPlan.parse(null, "binary:///../a/b/../c", null, null, false)).executable())
                .isEqualTo(Path.of("/a/c"));
        assertThat(UpstreamPlan.parse(null, "BINARY:///x", "BINARY:///x", null, false)).as("stderr may repeat stdout")
                .isInstanceOf(Binary.class);
        assertThat(UpstreamPlan.parse(null, "binary:///x", null, null, false).tiesStdin()).isFalse();
    }

    @Test
    void listenInEachStreamAskedFor() {
        assertThat(UpstreamPlan.parse("listen", "listen", null, null, false)).isEqualTo(new Listen(true, true, false));
        assertThat(UpstreamPlan.parse("listen", null, null, null, false).tiesStdin()).isTrue();
    }

    @Test
    void mixturesAndBadValuesAreRefusedNamingTheMember() {
        refused("io.stdout", () -> UpstreamPlan.parse("listen", "/run/out", null, null, false), "mix");
        refused("io.stdin", () -> UpstreamPlan.parse("/run/in", "listen", null, null, false), "mix");
        refused("io.retryTimeoutSeconds", () -> UpstreamPlan.parse(null, "listen", null, 5, false), "listen");
        refused("io.stdin", () -> UpstreamPlan.parse("/run/in", "binary:///x", null, null, false), "stdin");
        refused("io.stderr", () -> UpstreamPlan.parse(null, "binary:///x", "/run/err", null, false), "both");
        refused("io.retryTimeoutSeconds", () -> UpstreamPlan.parse(null, "binary:///x", null, 5, false), "driver");
        refused("io.stdout", () -> UpstreamPlan.parse(null, "http://example.com/x", null, null, false), "binary");
        refused("io.stderr", () -> UpstreamPlan.parse(null, null, "binary:///x", null, false), "only taken in io.stdout");
        refused("io.stdout", () -> UpstreamPlan.parse(null, "binary://host/x", null, null, false), "host");
        refused("io.stdout", () -> UpstreamPlan.parse(null, "binary:relative/x", null, null, false), "absolute");
        refused("io.stdout", () -> UpstreamPlan.parse(null, "binary:////server/share/x", null, null, false), "UNC");
        refused("io.stdout", () -> UpstreamPlan.parse(null, "binary:///", null, null, false), "no logging driver");
        refused("io.stdout", () -> UpstreamPlan.parse(null, "binary:///x y", null, null, false), "not a valid URI");
        refused("io.stdout", () -> UpstreamPlan.parse(null, "relative/out", null, null, false), "absolute");
        refused("io.stdout", () -> UpstreamPlan.parse(null, "\\\\.\\pipe\\out", null, null, false), "Windows");
        refused("io.stderr", () -> UpstreamPlan.parse(null, "/run/out", "/run/err", null, true), "terminal");
        refused("io.retryTimeoutSeconds", () -> UpstreamPlan.parse(null, null, null, 5, false), "none is set");
        // text no file name can hold (a lone surrogate, which JSON's \ud800 escape gives): 400, not a 500
        refused("io.stdout", () -> UpstreamPlan.parse(null, "/tmp/\ud800", null, null, false), "system can name");
        refused("io.stdin", () -> UpstreamPlan.parse("/tmp/in\ud800", null, null, null, false), "system can name");
        assertThatThrownBy(() -> UpstreamPlan.parse(null, "binary:///x\ud800", null, null, false))
                .isInstanceOf(InvalidUpstream.class).extracting(e -> ((InvalidUpstream) e).field()).isEqualTo("io.stdout");
    }

    private static void refused(String field, org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String says) {
        assertThatThrownBy(call).isInstanceOf(InvalidUpstream.class).hasMessageContaining(says)
                .extracting(e -> ((InvalidUpstream) e).field()).isEqualTo(field);
    }

    @Test
    void aDriversArgumentsAreItsQueryPairsInKeyOrder() {
        Binary binary = new Binary(Path.of("/x"), new TreeMap<>(Map.of("b", "1", "a", "", "c", "3")),
                "binary:///x?b=1&a&c=3");
        assertThat(binary.arguments()).containsExactly("a", "b", "1", "c", "3");
        assertThat(binary.query()).containsExactly(Map.entry("a", ""), Map.entry("b", "1"),
                Map.entry("c", "3"));
    }
}
