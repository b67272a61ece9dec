package io.execgate.host.hcs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Platform;
import io.execgate.support.Api;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;

/**
 * The HCS backend against the real computecore.dll, on a Windows host with a running Windows container whose id is
 * in {@code EXECGATE_HCS_TEST_CONTAINER} (README, "The HCS backend"). Skipped everywhere else: it has not been run
 * by this project's CI, which is Linux.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureRestTestClient
class HcsWindowsIT {

    private static final String CONTAINER = System.getenv("EXECGATE_HCS_TEST_CONTAINER");

    @Autowired
    RestTestClient http;
    Api api;

    @BeforeEach
    void onWindowsOnly() {
        assumeTrue(Platform.isWindows() && CONTAINER != null,
                "needs Windows and EXECGATE_HCS_TEST_CONTAINER naming a running Windows container");
        api = new Api(http);
    }

    @Test
    void theContainerIsListedAndRunsCommands() {
        JsonNode container = api.get("/api/v1/containers/" + CONTAINER).expect(200);
        assertThat(container.path("runtime").asString()).isEqualTo("hcs");
        JsonNode result = api.post("/api/v1/containers/" + CONTAINER + "/execs/run", """
                {"command": ["cmd", "/c", "echo %FOO% & exit /b 3"], "env": ["FOO=from-execgate"]}""").expect(200);
        assertThat(result.path("stdout").asString()).contains("from-execgate");
        assertThat(result.path("exitCode").asInt()).isEqualTo(3);
    }

    @Test
    void ctrlCAndDeleteEndACommand() {
        String id = api.post("/api/v1/containers/" + CONTAINER + "/execs", """
                {"command": ["ping", "-t", "localhost"]}""").expect(201).path("id").asString();
        api.post("/api/v1/execs/" + id + "/signal", "{\"signal\": \"CtrlC\"}").expect(202);
        assertThat(api.awaitExit(id).path("exited").asBoolean()).isTrue();
        String other = api.post("/api/v1/containers/" + CONTAINER + "/execs", """
                {"command": ["ping", "-t", "localhost"]}""").expect(201).path("id").asString();
        api.delete("/api/v1/execs/" + other).expect(204);
    }
}
