package io.execgate.host.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import io.execgate.host.ConsoleSize;
import io.execgate.host.ProcessSpec;
import io.execgate.host.StartFailure;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.MissingNode;

/** The process spec keeps what the container has and puts in what the exec asks for. */
class ExecProcessSpecTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final JsonNode CONTAINER = JSON.readTree("""
            {"terminal": false, "user": {"uid": 0, "gid": 0}, "args": ["sleep", "3600"],
             "env": ["PATH=/bin", "FOO=image"], "cwd": "/srv",
             "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"]},
             "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
             "apparmorProfile": "container-default", "noNewPrivileges": true}""");

    @Test
    void theContainersProcessIsKeptAndTheExecsFieldsPutIn() throws StartFailure {
        ProcessSpec spec = new ProcessSpec(List.of("sh", "-c", "id"), List.of("FOO=exec", "BAR=1"), null, null, true,
                null, true, true, false);
        JsonNode built = JSON.readTree(ExecProcessSpec.build(CONTAINER, spec,
                new ContainerUsers.Identity(1000, 1000, List.of(5L)), new ConsoleSize(100, 40)));
        assertThat(built.path("args").toString()).isEqualTo("[\"sh\",\"-c\",\"id\"]");
        assertThat(built.path("env").toString()).isEqualTo("[\"PATH=/bin\",\"FOO=exec\",\"BAR=1\",\"TERM=xterm\"]");
        assertThat(built.path("cwd").asString()).isEqualTo("/srv");
        assertThat(built.path("user").toString()).isEqualTo("{\"uid\":1000,\"gid\":1000,\"additionalGids\":[5]}");
        assertThat(built.path("terminal").asBoolean()).isTrue();
        assertThat(built.path("consoleSize").toString()).isEqualTo("{\"height\":40,\"width\":100}");
        assertThat(built.path("capabilities")).isEqualTo(CONTAINER.path("capabilities"));
        assertThat(built.path("rlimits")).isEqualTo(CONTAINER.path("rlimits"));
        assertThat(built.path("apparmorProfile").asString()).isEqualTo("container-default");
        assertThat(built.path("noNewPrivileges").asBoolean()).isTrue();
    }

    @Test
    void withoutAContainerProcessTheDefaultsAreDockers() throws StartFailure {
        ProcessSpec spec = new ProcessSpec(List.of("true"), List.of(), null, null, false, null, false, true, true);
        JsonNode built = JSON.readTree(ExecProcessSpec.build(MissingNode.getInstance(), spec,
                ExecProcessSpec.containerUser(MissingNode.getInstance()), new ConsoleSize(80, 24)));
        assertThat(built.path("env").toString()).isEqualTo("[\"" + ExecProcessSpec.DEFAULT_PATH + "\"]");
        assertThat(built.path("cwd").asString()).isEqualTo("/");
        assertThat(built.path("user").toString()).isEqualTo("{\"uid\":0,\"gid\":0}");
        assertThat(built.path("noNewPrivileges").isBoolean()).as("written out, never left out").isTrue();
        assertThat(built.has("consoleSize")).isFalse();
    }

    @Test
    void aRelativeWorkingDirIsRefused() {
        ProcessSpec spec = new ProcessSpec(List.of("true"), List.of(), "tmp", null, false, null, false, true, true);
        assertThatThrownBy(() -> ExecProcessSpec.build(CONTAINER, spec, ExecProcessSpec.containerUser(CONTAINER),
                new ConsoleSize(80, 24))).hasMessageContaining("absolute");
    }
}
