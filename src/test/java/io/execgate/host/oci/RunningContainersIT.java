package io.execgate.host.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import io.execgate.host.StartFailure;
import io.execgate.support.Api;
import io.execgate.support.TestContainers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * What the OCI backend remembers of running containers between execs, against real runc containers. The service
 * runs runc through a wrapper that logs every call, so the test sees when the runtime was asked for a state.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureRestTestClient
class RunningContainersIT {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Path DIR = TestContainers.tempDir("execgate-remembered");
    private static final Path ROOT = DIR.resolve("runc-r");
    private static final Path CALLS = DIR.resolve("runtime-calls.log");
    private static final Path WRAPPER = DIR.resolve("bin/runc");
    /** While it exists, the wrapper answers "state slowpoke" never (until the command timeout kills it). */
    private static final Path SLOW = DIR.resolve("slow");

    @Autowired
    RestTestClient http;
    Api api;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("execgate.backends.oci.roots", ROOT::toString);
        registry.add("execgate.backends.oci.runtime", WRAPPER::toString);
        registry.add("execgate.data-dir", () -> DIR.resolve("data").toString());
        registry.add("execgate.backends.oci.command-timeout", () -> "3s");
    }

    @BeforeAll
    static void wrapper() throws IOException {
        String why = TestContainers.unavailableBecause("runc");
        assumeTrue(why == null, () -> "skipped: " + why);
        Files.createDirectories(WRAPPER.getParent());
        Files.writeString(WRAPPER, "#!/bin/sh\necho \"$*\" >> " + CALLS + "\ncase \"$*\" in *\"state slowpoke\"*) [ -e "
                + SLOW + " ] && exec sleep 60;; esac\nexec " + TestContainers.which("runc") + " \"$@\"\n");
        Files.setPosixFilePermissions(WRAPPER, PosixFilePermissions.fromString("rwx------"));
    }

    @AfterAll
    static void removeContainers() throws IOException {
        TestContainers.removeAll("runc", ROOT, DIR);
    }

    @BeforeEach
    void client() {
        api = new Api(http);
    }

    @Test
    void aRuntimeThatDoesNotAnswerInTimeIsUnavailableForNowNotAFailedRequest() throws Exception {
        Path bundle = TestContainers.bundle(DIR.resolve("bundle-slow"));
        start(bundle, "slowpoke");
        Files.writeString(SLOW, "");
        try {
            Api.Response slow = api.post("/api/v1/containers/slowpoke/execs/run", "{\"command\": [\"true\"]}")
                    .isProblem(503, "BACKEND_UNAVAILABLE");
            assertThat(slow.json().path("detail").asString()).contains("state slowpoke did not finish within");
            assertThat(slow.headers().getFirst("Retry-After")).isEqualTo("1");
            Files.delete(SLOW);
            assertThat(api.post("/api/v1/containers/slowpoke/execs/run", "{\"command\": [\"true\"]}").status())
                    .as("answering again, the runtime serves the next exec").isEqualTo(200);
        } finally {
            Files.deleteIfExists(SLOW);
            TestContainers.delete("runc", ROOT, "slowpoke");
        }
        assertThat(ProcessHandle.current().descendants()
                .filter(p -> p.info().commandLine().orElse("").endsWith("sleep 60")).toList())
                .as("the stuck runtime call was killed").isEmpty();
    }

    @Test
    void aRunningContainerIsAskedForOnceAndANewContainerUnderItsIdIsSeenAfresh() throws Exception {
        Path bundle = TestContainers.bundle(DIR.resolve("bundle-same"));
        setFoo(bundle, "first");
        start(bundle, "same");
        try {
            long before = calls("state same");
            for (int i = 0; i < 3; i++) {
                assertThat(foo("same")).isEqualTo("first");
            }
            assertThat(calls("state same") - before).as("runc state, once for three execs: %s", Files.readString(CALLS))
                    .isEqualTo(1);
            assertThat(calls(" exec ")).isGreaterThanOrEqualTo(3);

            // The container stops and another takes its id, with another bundle's config: its init is new, so
            // the first exec asks the runtime again and runs with the new container's environment.
            TestContainers.kill("runc", ROOT, "same");
            awaitStopped("same");
            api.post("/api/v1/containers/same/execs/run", "{\"command\": [\"true\"]}").isProblem(409, "CONFLICT");
            TestContainers.delete("runc", ROOT, "same");
            Path next = TestContainers.bundle(DIR.resolve("bundle-next"));
            setFoo(next, "second");
            start(next, "same");
            assertThat(foo("same")).isEqualTo("second");
            assertThat(foo("same")).isEqualTo("second");
            assertThat(calls("state same") - before).as("asked again for the new container only").isEqualTo(3);

            // paused: the runtime itself refuses the exec, as its state would have
            TestContainers.run(List.of("runc", "--root=" + ROOT, "pause", "same"));
            Api.Response paused = api.post("/api/v1/containers/same/execs/run", "{\"command\": [\"true\"]}")
                    .isProblem(409, "CONFLICT");
            assertThat(paused.json().path("detail").asString()).contains("paused");
            TestContainers.run(List.of("runc", "--root=" + ROOT, "resume", "same"));
            assertThat(foo("same")).isEqualTo("second");
        } finally {
            TestContainers.delete("runc", ROOT, "same");
        }
    }

    @Test
    void atMostTheLimitIsRememberedAndClosingLetsGoOfEveryDescriptor() throws Exception {
        Path bundle = TestContainers.bundle(DIR.resolve("bundle-pair"));
        start(bundle, "one");
        start(bundle, "two");
        try {
            OciRuntime runtime = OciRuntime.find("runc", Duration.ofSeconds(10));
            long before = pidfds();
            RunningContainers containers = new RunningContainers(1);
            RunningContainers.Known one = containers.running(runtime, ROOT, "one");
            assertThat(containers.running(runtime, ROOT, "one")).as("remembered").isSameAs(one);
            assertThat(pidfds()).isEqualTo(before + 1);
            containers.running(runtime, ROOT, "two");
            assertThat(containers.size()).isEqualTo(1);
            assertThat(pidfds()).as("one's pidfd closed as it was let go").isEqualTo(before + 1);
            assertThat(containers.running(runtime, ROOT, "one")).as("let go for two, asked again").isNotSameAs(one);
            containers.close();
            assertThat(containers.size()).isZero();
            assertThat(pidfds()).as("the pidfds are closed").isEqualTo(before);

            RunningContainers never = new RunningContainers(0);
            assertThat(never.running(runtime, ROOT, "one")).isNotSameAs(never.running(runtime, ROOT, "one"));
            assertThat(never.size()).isZero();
            assertThat(pidfds()).isEqualTo(before);

            try {
                new RunningContainers(4).running(runtime, ROOT, "nosuch");
                throw new AssertionError("a container that does not exist was found");
            } catch (StartFailure e) {
                assertThat(e.kind()).isEqualTo(StartFailure.Kind.TARGET_GONE);
            }
        } finally {
            TestContainers.delete("runc", ROOT, "one");
            TestContainers.delete("runc", ROOT, "two");
        }
    }

    /**
     * Starts a container and lets a moment pass: an init younger than two clock ticks when the runtime is asked is
     * not remembered (it cannot be told from a process that took a dead init's pid).
     */
    private static void start(Path bundle, String id) throws Exception {
        TestContainers.start("runc", ROOT, bundle, id);
        Thread.sleep(100);
    }

    private static void awaitStopped(String id) throws Exception {
        long deadline = System.currentTimeMillis() + 10_000;
        while (!TestContainers.run(List.of("runc", "--root=" + ROOT, "state", id)).contains("\"stopped\"")) {
            assertThat(System.currentTimeMillis()).as("container %s stopped", id).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    private String foo(String container) {
        JsonNode run = api.post("/api/v1/containers/" + container + "/execs/run",
                "{\"command\": [\"sh\", \"-c\", \"echo $FOO\"]}").expect(200);
        return run.path("stdout").asString().strip();
    }

    private static void setFoo(Path bundle, String value) throws IOException {
        ObjectNode config = (ObjectNode) JSON.readTree(bundle.resolve("config.json").toFile());
        ObjectNode process = (ObjectNode) config.path("process");
        var env = process.withArray("env");
        for (int i = env.size() - 1; i >= 0; i--) {
            if (env.get(i).asString().startsWith("FOO=")) {
                env.remove(i);
            }
        }
        env.add("FOO=" + value);
        JSON.writeValue(bundle.resolve("config.json").toFile(), config);
    }

    private static long calls(String containing) throws IOException {
        if (!Files.exists(CALLS)) {
            return 0;
        }
        try (Stream<String> lines = Files.lines(CALLS)) {
            return lines.filter(line -> line.contains(containing)).count();
        }
    }

    /** The service's pidfds (it has none of its own here: no exec runs meanwhile). */
    private static long pidfds() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().equals("anon_inode:[pidfd]");
                } catch (IOException gone) {
                    return false;
                }
            }).count();
        }
    }
}
