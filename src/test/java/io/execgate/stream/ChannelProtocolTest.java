package io.execgate.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

import io.execgate.host.ExitStatus;
import io.execgate.host.Signal;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class ChannelProtocolTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void theClientsPreferenceWinsAmongWhatIsSupported() {
        assertThat(ChannelProtocol.select(List.of("channel.k8s.io", "v4.channel.k8s.io", "v5.channel.k8s.io")))
                .contains("v4.channel.k8s.io");
        assertThat(ChannelProtocol.select(List.of(" v5.channel.k8s.io", "v4.channel.k8s.io"))).contains("v5.channel.k8s.io");
        assertThat(ChannelProtocol.select(List.of("base64.channel.k8s.io"))).isEmpty();
        assertThat(ChannelProtocol.select(List.of())).isEmpty();
    }

    @Test
    void successIsAPlainStatus() {
        JsonNode status = decode(ChannelProtocol.status(ExitStatus.exited(0, NOW), JSON));
        assertThat(status.path("status").asString()).isEqualTo("Success");
        assertThat(status.path("metadata").isObject()).isTrue();
        assertThat(status.has("details")).isFalse();
    }

    @Test
    void aNonZeroExitCarriesTheExitCodeCause() {
        JsonNode status = decode(ChannelProtocol.status(ExitStatus.signaled(Signal.SIGKILL, NOW), JSON));
        assertThat(status.path("status").asString()).isEqualTo("Failure");
        assertThat(status.path("reason").asString()).isEqualTo("NonZeroExitCode");
        assertThat(status.path("message").asString()).contains("137").contains("SIGKILL");
        JsonNode cause = status.path("details").path("causes").get(0);
        assertThat(cause.path("reason").asString()).isEqualTo("ExitCode");
        assertThat(cause.path("message").asString()).isEqualTo("137");
    }

    @Test
    void aLostProcessIsAFailureWithoutAnExitCode() {
        JsonNode status = decode(ChannelProtocol.status(ExitStatus.lost("backend gone", NOW), JSON));
        assertThat(status.path("status").asString()).isEqualTo("Failure");
        assertThat(status.path("reason").asString()).isEqualTo("InternalError");
        assertThat(status.path("code").asInt()).isEqualTo(500);
        assertThat(status.path("message").asString()).isEqualTo("backend gone");
        assertThat(status.has("details")).isFalse();
    }

    private static JsonNode decode(byte[] message) {
        assertThat(message[0]).isEqualTo((byte) 3);
        return JSON.readTree(new String(message, 1, message.length - 1, StandardCharsets.UTF_8));
    }
}
