package io.execgate.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

import io.execgate.support.Api;
import io.execgate.support.ChannelClient;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.HttpMethod;
import org.springframework.test.web.servlet.client.RestTestClient;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.servlet.handler.AbstractUrlHandlerMapping;
import org.springframework.web.servlet.mvc.method.RequestMappingInfoHandlerMapping;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;
import tools.jackson.databind.JsonNode;

/** Who may do what, over real HTTP and WebSocket: tokens, roles by target kind, origins, the audit log, limits. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "execgate.security.tokens[0].name=viewer",
        "execgate.security.tokens[0].sha256=" + SecurityIT.VIEWER_SHA,
        "execgate.security.tokens[0].roles=viewer",
        "execgate.security.tokens[1].name=ops",
        "execgate.security.tokens[1].sha256=" + SecurityIT.OPERATOR_SHA,
        "execgate.security.tokens[1].roles=operator",
        "execgate.security.tokens[2].name=prometheus",
        "execgate.security.tokens[2].sha256=" + SecurityIT.METRICS_SHA,
        "execgate.security.tokens[2].roles=metrics",
        "execgate.security.allowed-origins=https://console.example",
        "execgate.security.max-request-body=2MB",
        "execgate.exec.max-running-per-principal=2"})
@AutoConfigureRestTestClient
@ExtendWith(OutputCaptureExtension.class)
class SecurityIT {

    /** One client for the whole class: each holds a selector thread until it is collected. */
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    static final String VIEWER = "viewer-token-0123456789";
    static final String OPERATOR = "operator-token-0123456789";
    // printf %s "$TOKEN" | sha256sum
    static final String VIEWER_SHA = "2ad89e5a01aed6d990d6eea4851e0ae15ee373b28563ef0f9f8565c1c9596376";
    static final String OPERATOR_SHA = "e4ba15bc7411be319ad18f683da1ff6968143f09f0fac67e517a5d6f526598c1";
    static final String METRICS = "metrics-token-0123456789";
    static final String METRICS_SHA = "626d08c76fca3430790c310334b1c006fd9a4678b7242e9de155ce6ea44a5672";

    @LocalServerPort
    int port;
    @Autowired
    RestTestClient http;
    Api admin;
    Api viewer;
    Api operator;
    Api nobody;

    @BeforeEach
    void clients() {
        admin = new Api(http);
        viewer = admin.as(VIEWER);
        operator = admin.as(OPERATOR);
        nobody = admin.as(null);
    }

    @Test
    void theTestTokensHashToTheConfiguredDigests() {
        assertThat(HexFormat.of().formatHex(StaticTokens.sha256(VIEWER))).isEqualTo(VIEWER_SHA);
        assertThat(HexFormat.of().formatHex(StaticTokens.sha256(OPERATOR))).isEqualTo(OPERATOR_SHA);
        assertThat(HexFormat.of().formatHex(StaticTokens.sha256(METRICS))).isEqualTo(METRICS_SHA);
    }

    @Test
    void withoutAValidTokenEverythingButHealthIs401() {
        var missing = nobody.get("/api/v1/host").isProblem(401, "UNAUTHORIZED");
        assertThat(missing.headers().getFirst("WWW-Authenticate")).isEqualTo("Bearer");
        var wrong = admin.as("not-a-token").get("/api/v1/execs").isProblem(401, "UNAUTHORIZED");
        assertThat(wrong.headers().getFirst("WWW-Authenticate")).contains("invalid_token");
        nobody.post("/api/v1/host/execs", "{\"command\": [\"true\"]}").isProblem(401, "UNAUTHORIZED");
        nobody.get("/api/v1/nowhere").isProblem(401, "UNAUTHORIZED");
        assertThat(nobody.get("/actuator/health").status()).isEqualTo(200);
        assertThat(nobody.get("/actuator/health/liveness").status()).isEqualTo(200);
        assertThat(nobody.get("/actuator/health/readiness").status()).isEqualTo(200);
        // a token in the query string is not a token
        nobody.get("/api/v1/host?access_token=" + VIEWER).isProblem(401, "UNAUTHORIZED");
    }

    @Test
    void aViewerReadsButRunsNothing() {
        String id = admin.create("{\"command\": [\"echo\", \"hi\"]}").path("id").asString();
        admin.awaitExit(id);
        assertThat(viewer.get("/api/v1/host").status()).isEqualTo(200);
        assertThat(viewer.get("/api/v1/execs").status()).isEqualTo(200);
        assertThat(viewer.get("/api/v1/execs/" + id + "/exit").status()).isEqualTo(200);
        assertThat(viewer.get("/api/v1/execs/" + id + "/output").text()).isEqualTo("hi\n");
        viewer.post("/api/v1/host/execs", "{\"command\": [\"true\"]}").isProblem(403, "FORBIDDEN");
        viewer.post("/api/v1/containers/ctr1/execs", "{\"command\": [\"true\"]}").isProblem(403, "FORBIDDEN");
        viewer.delete("/api/v1/execs/" + id).isProblem(403, "FORBIDDEN");
        // UVMs: listing and reading consoles are a viewer's (api.md: viewer reads); booting and powering off operators'
        assertThat(viewer.get("/api/v1/uvms").status()).isEqualTo(200);
        viewer.post("/api/v1/uvms", "{\"id\": \"v1\"}").isProblem(403, "FORBIDDEN");
        viewer.delete("/api/v1/uvms/v1").isProblem(403, "FORBIDDEN");
        viewer.get("/api/v1/uvms/v1/console").isProblem(404, "TARGET_NOT_FOUND");
        viewer.as(METRICS).get("/api/v1/uvms/v1/console").isProblem(403, "FORBIDDEN");
        operator.delete("/api/v1/uvms/v1").isProblem(404, "TARGET_NOT_FOUND");
    }

    /** Powering a VM off ends every exec in it: boots and power-offs are audited, done or refused. */
    @Test
    void bootingAndPoweringOffAUvmAreAudited() {
        List<String> lines;
        int created;
        int deleted;
        try (AuditLines audit = AuditLines.capture()) {
            // 201 where QEMU and the image are here (a real boot), else 503: audited either way
            created = operator.post("/api/v1/uvms", "{\"id\": \"audited1\", \"memoryMiB\": 128}").status();
            deleted = operator.delete("/api/v1/uvms/audited1").status();
            lines = audit.lines().stream().filter(l -> l.contains("\"event\":\"uvm.")).toList();
        }
        assertThat(created).isIn(201, 503);
        assertThat(deleted).isEqualTo(created == 201 ? 204 : 404);
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).contains("\"event\":\"uvm.create\"", "\"principal\":\"ops\"", "\"uvm\":\"audited1\"",
                "\"status\":" + created);
        assertThat(lines.get(1)).contains("\"event\":\"uvm.delete\"", "\"principal\":\"ops\"", "\"uvm\":\"audited1\"",
                "\"status\":" + deleted);

        // refused by validation, before any backend is asked: audited all the same
        try (AuditLines audit = AuditLines.capture()) {
            assertThat(operator.post("/api/v1/uvms", "{\"id\": \"small\", \"memoryMiB\": 1}")
                    .isProblem(400, "INVALID_REQUEST").json().path("errors").get(0).path("field").asString())
                    .isEqualTo("memoryMiB");
            operator.post("/api/v1/uvms", "{\"id\": \"bad id!\"}").isProblem(400, "INVALID_REQUEST");
            // and by the framework, before the controller could read the body: an unknown field, a wrong type, none
            operator.post("/api/v1/uvms", "{\"id\": \"u2\", \"bogus\": 1}").isProblem(400, "INVALID_REQUEST");
            operator.post("/api/v1/uvms", "{\"memoryMiB\": \"x\"}").isProblem(400, "INVALID_REQUEST");
            operator.post("/api/v1/uvms", "").isProblem(400, "INVALID_REQUEST");
            lines = audit.lines().stream().filter(l -> l.contains("\"event\":\"uvm.")).toList();
        }
        assertThat(lines).hasSize(5);
        assertThat(lines.get(0)).contains("\"event\":\"uvm.create\"", "\"uvm\":\"small\"", "\"status\":400");
        assertThat(lines.get(1)).contains("\"event\":\"uvm.create\"", "\"uvm\":null", "\"status\":400")
                .doesNotContain("bad id!");
        assertThat(lines.subList(2, 5)).allSatisfy(line -> assertThat(line).contains("\"event\":\"uvm.create\"",
                "\"principal\":\"ops\"", "\"uvm\":null", "\"status\":400"));
        // Other requests' refusals by the framework are no boots
        try (AuditLines audit = AuditLines.capture()) {
            operator.post("/api/v1/containers/c1/execs", "{\"bogus\": 1}").isProblem(400, "INVALID_REQUEST");
            assertThat(audit.lines()).noneMatch(l -> l.contains("\"event\":\"uvm."));
        }
    }

    @Test
    void anOperatorRunsInContainersButNotOnTheHost() {
        operator.post("/api/v1/host/execs", "{\"command\": [\"true\"]}").isProblem(403, "FORBIDDEN");
        // upstream IO names host FIFOs and host programs: an operator may not, whatever the target; the exec layer
        // refuses it, and the refusal is audited like the security layer's
        List<String> denials;
        try (AuditLines audit = AuditLines.capture()) {
            assertThat(operator.post("/api/v1/containers/anything/execs", """
                    {"command": ["true"], "io": {"stdout": "binary:///bin/sh?-c=id"}}""").isProblem(403, "FORBIDDEN")
                    .json().path("detail").asString()).contains("admin");
            denials = audit.lines().stream().filter(l -> l.contains("\"event\":\"access.denied\"")
                    && l.contains("\"path\":\"/api/v1/containers/anything/execs\"")).toList();
        }
        assertThat(denials).singleElement().asString().contains("\"principal\":\"ops\"", "\"method\":\"POST\"",
                "\"status\":403");
        operator.post("/api/v1/host/execs/run", "{\"command\": [\"true\"]}").isProblem(403, "FORBIDDEN");
        // allowed to try: the container does not exist
        operator.post("/api/v1/containers/ctr1/execs", "{\"command\": [\"true\"]}").isProblem(404, "TARGET_NOT_FOUND");
        String id = admin.create("{\"command\": [\"sleep\", \"30\"]}").path("id").asString();
        try {
            // controls on a host exec are authorised like creating one: by its target, not the verb
            operator.post("/api/v1/execs/" + id + "/signal", "{\"signal\": \"TERM\"}").isProblem(403, "FORBIDDEN");
            operator.delete("/api/v1/execs/" + id).isProblem(403, "FORBIDDEN");
            assertThat(operator.get("/api/v1/execs/" + id).status()).isEqualTo(200);
            assertThat(ChannelClient.refused(ChannelClient.builder(ChannelClient.NO_TOKEN).header("Authorization",
                    "Bearer " + OPERATOR).subprotocols(ChannelClient.V5), ws("/api/v1/execs/" + id + "/attach")).status())
                    .isEqualTo(403);
            assertThat(ChannelClient.refused(ChannelClient.builder(ChannelClient.NO_TOKEN).header("Authorization",
                    "Bearer " + OPERATOR).subprotocols(ChannelClient.V5), ws("/api/v1/host/exec?command=true")).status())
                    .isEqualTo(403);
        } finally {
            admin.delete("/api/v1/execs/" + id);
        }
    }

    @Test
    void noVerbButGetOpensAStreamAndNothingStartsForOtherVerbs() throws Exception {
        String marker = "/tmp/execgate-verb-" + System.nanoTime();
        int before = admin.get("/api/v1/execs?limit=1000").expect(200).size();
        for (String method : java.util.List.of("POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD")) {
            for (String token : java.util.List.of(VIEWER, Api.ADMIN_TOKEN)) {
                HttpResponse<String> answer = HTTP.send(HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + port + "/api/v1/host/exec?command=touch&command=" + marker))
                        .method(method, HttpRequest.BodyPublishers.noBody()).header("Authorization", "Bearer " + token)
                        .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==").header("Sec-WebSocket-Version", "13")
                        .header("Sec-WebSocket-Protocol", "v5.channel.k8s.io").build(), HttpResponse.BodyHandlers.ofString());
                assertThat(answer.statusCode()).as("%s with %s", method, token.equals(VIEWER) ? "viewer" : "admin")
                        .isIn(token.equals(VIEWER) ? java.util.List.of(403) : java.util.List.of(400, 403, 405));
            }
        }
        Thread.sleep(300);
        assertThat(java.nio.file.Files.exists(java.nio.file.Path.of(marker))).as("nothing ran").isFalse();
        assertThat(admin.get("/api/v1/execs?limit=1000").expect(200).size()).isEqualTo(before);
    }

    @Test
    void anotherVerbOnAKnownPathIs405AnUnknownPath404AndActuatorIsForAdmins() {
        Api.Response post = viewer.post("/api/v1/host", "{}").isProblem(405, "METHOD_NOT_ALLOWED");
        assertThat(post.headers().getAllow()).contains(HttpMethod.GET);
        admin.delete("/api/v1/execs").isProblem(405, "METHOD_NOT_ALLOWED");
        admin.post("/api/v1/nowhere", "{}").isProblem(404, "NOT_FOUND");
        viewer.get("/api/v1/nowhere").isProblem(404, "NOT_FOUND");
        new Api(http, null).post("/api/v1/host", "{}").isProblem(401, "UNAUTHORIZED");
        viewer.get("/actuator").isProblem(403, "FORBIDDEN");
        assertThat(admin.get("/actuator").status()).isEqualTo(200);
    }

    /**
     * The rule for what no other rule names lets a viewer through to MVC's 404 and 405. That is safe only while
     * every handler has a rule of its own, whatever handlers are added later: each controller handler that changes
     * something refuses a viewer on each of its verbs; a HEAD gets what a GET gets (a HEAD runs the GET handler);
     * and every stream endpoint refuses a viewer whatever the verb (a one-step handshake starts an exec).
     */
    @Test
    void everyHandlerThatChangesSomethingRefusesAViewer(@Autowired List<RequestMappingHandlerMapping> controllers,
            @Autowired List<AbstractUrlHandlerMapping> urlMappings) throws Exception {
        List<String> checked = new ArrayList<>();
        for (var info : controllers.stream().flatMap(m -> m.getHandlerMethods().keySet().stream()).toList()) {
            Set<RequestMethod> verbs = info.getMethodsCondition().getMethods();
            if (verbs.isEmpty()) {
                verbs = EnumSet.allOf(RequestMethod.class);
            }
            for (String pattern : info.getPatternValues()) {
                if (pattern.equals("/error")) {
                    continue; // the container's error page: answers, changes nothing
                }
                String path = pattern.replaceAll("\\{[^}]+}", "x1");
                for (var verb : verbs) {
                    switch (verb.name()) {
                        case "OPTIONS", "TRACE" -> { }
                        case "GET", "HEAD" -> assertThat(asViewer("HEAD", path)).as("HEAD %s as a viewer", path)
                                .isEqualTo(asViewer("GET", path));
                        default -> {
                            assertThat(asViewer(verb.name(), path)).as("%s %s as a viewer", verb, path).isEqualTo(403);
                            checked.add(verb + " " + path);
                        }
                    }
                }
            }
        }
        assertThat(checked).as("the handlers that change something").contains("POST /api/v1/host/execs",
                "POST /api/v1/uvms", "DELETE /api/v1/execs/x1", "POST /api/v1/execs/x1/signal").hasSizeGreaterThan(10);
        everyStreamRefuses(VIEWER, "a viewer", urlMappings);
    }

    /**
     * The metrics role scrapes and reads nothing else: no command line, no output, no stream. Every GET handler,
     * the actuator's included, refuses a metrics token with 403, except {@code /actuator/prometheus} and what is
     * public to everyone (health, the API's description, the console's pages), where it gets what a caller without a
     * token gets. Every stream endpoint refuses it whatever the verb.
     */
    @Test
    void aMetricsTokenScrapesPrometheusAndReadsNothingElse(@Autowired List<RequestMappingInfoHandlerMapping> handlers,
            @Autowired List<AbstractUrlHandlerMapping> urlMappings) throws Exception {
        // A real exec, so that its record, exit and output are there to be refused.
        String id = admin.create("{\"command\": [\"echo\", \"a secret output\"]}").path("id").asString();
        admin.awaitExit(id);
        List<String> refused = new ArrayList<>();
        List<String> open = new ArrayList<>();
        for (var info : handlers.stream().flatMap(m -> m.getHandlerMethods().keySet().stream()).toList()) {
            Set<RequestMethod> verbs = info.getMethodsCondition().getMethods();
            if (!verbs.isEmpty() && !verbs.contains(RequestMethod.GET)) {
                continue;
            }
            for (String pattern : info.getPatternValues()) {
                String path = pattern.replaceAll("\\{\\*[^}]+}|\\*\\*|\\{[^}]+}", "x1");
                path = pattern.startsWith("/api/v1/execs/{") ? path.replaceFirst("x1", id) : path;
                int metrics = as(METRICS, "GET", path);
                if (path.equals("/actuator/prometheus")) {
                    assertThat(metrics).as("GET %s as metrics", path).isEqualTo(200);
                } else if (as(null, "GET", path) != 401) {
                    open.add(path);
                    assertThat(metrics).as("GET %s as metrics: what anyone gets", path).isEqualTo(as(null, "GET", path));
                } else {
                    assertThat(metrics).as("GET %s as metrics", path).isEqualTo(403);
                    refused.add(path);
                }
            }
        }
        assertThat(refused).as("the GET handlers a metrics token may not use").contains("/api/v1/execs",
                "/api/v1/execs/" + id, "/api/v1/execs/" + id + "/output", "/api/v1/execs/" + id + "/exit",
                "/api/v1/host", "/api/v1/uvms", "/actuator");
        assertThat(open).as("what is public to everyone").contains("/actuator/health")
                .allMatch(path -> path.startsWith("/actuator/health") || path.startsWith("/v3/api-docs")
                        || path.startsWith("/swagger-ui") || path.equals("/error"));
        assertThat(as(METRICS, "GET", "/api/v1/nowhere")).as("an unknown path").isEqualTo(403);
        everyStreamRefuses(METRICS, "metrics", urlMappings);
        // The roles above include it: a viewer still scrapes.
        assertThat(as(VIEWER, "GET", "/actuator/prometheus")).isEqualTo(200);
        // Health's details (the data directory, the runtimes' paths and versions, free space) are a reader's: a
        // metrics token gets the statuses anyone gets, a viewer the details too.
        JsonNode scraped = viewer.as(METRICS).get("/actuator/health").json();
        assertThat(scraped.path("components").path("records").has("status")).isTrue();
        assertThat(scraped.path("components").path("records").has("details")).as("%s", scraped).isFalse();
        assertThat(scraped.path("components").path("diskSpace").has("details")).isFalse();
        assertThat(viewer.get("/actuator/health").json().path("components").path("records").has("details")).isTrue();
        assertThat(operator.get("/actuator/health").json().path("components").path("records").has("details")).isTrue();
        assertThat(admin.get("/actuator/health").json().path("components").path("records").has("details")).isTrue();
    }

    /** Every stream endpoint answers {@code token} with 403 whatever the verb (a one-step handshake starts an exec). */
    private void everyStreamRefuses(String token, String who, List<AbstractUrlHandlerMapping> urlMappings)
            throws Exception {
        List<String> streams = urlMappings.stream().flatMap(m -> m.getHandlerMap().keySet().stream())
                .filter(path -> path.startsWith("/api/")).toList();
        assertThat(streams).as("the stream endpoints").contains("/api/v1/host/exec", "/api/v1/execs/*/attach");
        for (String pattern : streams) {
            String path = pattern.replace("*", "x1");
            for (String verb : List.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH")) {
                assertThat(as(token, verb, path)).as("%s %s as %s", verb, path, who).isEqualTo(403);
            }
        }
    }

    private int asViewer(String verb, String path) throws Exception {
        return as(VIEWER, verb, path);
    }

    private int as(@Nullable String token, String verb, String path) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Content-Type", "application/json").method(verb, HttpRequest.BodyPublishers.ofString("{}"));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Test
    void controlsRefusalsAndDenialsAreAuditedToo(CapturedOutput output) throws Exception {
        String id = admin.create("{\"command\": [\"sleep\", \"30\"], \"stdin\": true}").path("id").asString();
        admin.post("/api/v1/execs/" + id + "/signal", "{\"signal\": \"USR1\"}").expect(202);
        admin.awaitExit(id);
        assertThat(output.getAll()).contains("\"event\":\"exec.control\",\"execId\":\"" + id
                + "\",\"principal\":\"admin\",\"remoteAddress\":\"127.0.0.1\"").contains("\"action\":\"signal SIGUSR1\"");
        ChannelClient attached = ChannelClient.connect(ws("/api/v1/execs/" + id + "/attach"), ChannelClient.V5);
        attached.awaitClose(Duration.ofSeconds(10));
        assertThat(output.getAll()).contains("\"action\":\"attach +stdin\"");
        viewer.post("/api/v1/host/execs", "{\"command\": [\"true\"]}").isProblem(403, "FORBIDDEN");
        assertThat(output.getAll()).contains("\"event\":\"access.denied\",\"principal\":\"viewer\"")
                .contains("\"path\":\"/api/v1/host/execs\",\"status\":403");
    }

    @Test
    void aMalformedHeaderLineDoesNotPutTheTokenInTheLog(CapturedOutput output) throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            socket.getOutputStream().write(("GET /api/v1/host HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer LEAKED-"
                    + "TOKEN-1\u0001x\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            socket.getInputStream().read(new byte[1024]);
        }
        assertThat(output.getAll()).doesNotContain("LEAKED-TOKEN");
    }

    @Test
    void anAdminRunsOnTheHost() {
        JsonNode exec = admin.create("{\"command\": [\"true\"]}");
        assertThat(exec.path("state").asString()).isIn("running", "exited");
        assertThat(admin.run("{\"command\": [\"sh\", \"-c\", \"exit 5\"]}").path("exitCode").asInt()).isEqualTo(5);
    }

    @Test
    void aWebSocketHandshakeIsAuthenticatedBeforeTheUpgrade() throws Exception {
        assertThat(ChannelClient.refused(ws("/api/v1/host/exec?command=true"), ChannelClient.NO_TOKEN, ChannelClient.V5)
                .status()).isEqualTo(401);
        String encoded = Base64.getUrlEncoder().withoutPadding().encodeToString(Api.ADMIN_TOKEN.getBytes(StandardCharsets.UTF_8));
        ChannelClient browserLike = ChannelClient.connect(ws("/api/v1/host/exec?command=echo&command=hi"),
                "base64url.bearer.authorization.k8s.io." + encoded, ChannelClient.V5);
        assertThat(browserLike.subprotocol()).as("the token is never echoed as the protocol").isEqualTo(ChannelClient.V5);
        assertThat(browserLike.awaitClose(Duration.ofSeconds(10))).isEqualTo(1000);
        assertThat(browserLike.stdout()).isEqualTo("hi\n");
        assertThat(ChannelClient.refused(ws("/api/v1/host/exec?command=true"),
                "base64url.bearer.authorization.k8s.io.bm90LWEtdG9rZW4", ChannelClient.V5).status()).isEqualTo(401);
    }

    @Test
    void crossSiteHandshakesAre403UnlessTheOriginIsAllowed(CapturedOutput output) throws Exception {
        Path marker = Files.createTempFile("cross-site", "");
        Files.delete(marker);
        var refused = ChannelClient.refused(ChannelClient.builder(ChannelClient.V5).header("Origin", "https://evil.example"),
                ws("/api/v1/host/exec?command=touch&command=" + marker));
        assertThat(refused.status()).isEqualTo(403);
        assertThat(refused.body()).contains("\"code\":\"FORBIDDEN\"", "https://evil.example", "allowed-origins");
        assertThat(output.getAll()).contains("\"event\":\"access.denied\",\"principal\":\"admin\"");
        assertThat(marker).doesNotExist();
        var allowed = ChannelClient.builder(ChannelClient.V5).header("Origin", "https://console.example")
                .buildAsync(ws("/api/v1/host/exec?command=true"), new java.net.http.WebSocket.Listener() { }).join();
        assertThat(allowed.getSubprotocol()).isEqualTo(ChannelClient.V5);
        allowed.abort();
    }

    @Test
    void everyExecIsAuditedWithSecretsMasked(CapturedOutput output) {
        JsonNode result = admin.run("""
                {"command": ["sh", "-c", "exit 3", "--password=hunter2"], "env": ["API_TOKEN=hunter2", "COLOUR=blue"]}""");
        String id = result.path("exec").path("id").asString();
        String start = auditLine(output, "exec.start", id);
        assertThat(start).contains("\"event\":\"exec.start\"");
        assertThat(start).contains("\"principal\":\"admin\"", "\"remoteAddress\":\"127.0.0.1\"", "\"target\":\"host/",
                "\"--password=***\"", "\"API_TOKEN=***\"", "\"COLOUR=blue\"", "\"tty\":false");
        String end = auditLine(output, "exec.end", id);
        assertThat(end).contains("\"exitCode\":3", "\"reason\":\"exited\"", "\"durationMillis\":");
        assertThat(output.getAll()).doesNotContain("hunter2").doesNotContain(Api.ADMIN_TOKEN).doesNotContain(OPERATOR);
    }

    /** A resize and a close of stdin sent on a stream are audited like the REST controls, by who attached. */
    @Test
    void controlsSentOnAStreamAreAudited(CapturedOutput output) throws Exception {
        ChannelClient client = ChannelClient.connect(ws("/api/v1/host/exec?command=cat&stdin=true&tty=true"),
                ChannelClient.V5);
        client.resize(100, 30);
        client.stdin("typed\r");
        client.awaitStdout("typed", Duration.ofSeconds(10));
        client.closeStdin();
        assertThat(client.awaitClose(Duration.ofSeconds(10))).isEqualTo(1000);
        List<String> controls = output.getAll().lines()
                .filter(l -> l.contains("\"event\":\"exec.control\"") && l.contains("\"principal\":\"admin\""))
                .toList();
        assertThat(controls).anyMatch(l -> l.contains("\"action\":\"resize 100x30\""))
                .anyMatch(l -> l.contains("\"action\":\"close-stdin\""));
    }

    /** A logging driver is a program the service starts on the host: the audit names it with its arguments. */
    @Test
    void aLoggingDriverIsAuditedWithItsArguments(CapturedOutput output, @TempDir Path dir) throws Exception {
        Path driver = dir.resolve("driver");
        Files.writeString(driver, """
                #!/bin/sh
                cat "$CONTAINER_STDOUT" > /dev/null &
                cat "$CONTAINER_STDERR" > /dev/null &
                : > "$CONTAINER_WAIT"
                wait
                """);
        Files.setPosixFilePermissions(driver, PosixFilePermissions.fromString("rwx------"));
        String id = admin.create("{\"command\": [\"true\"], \"io\": {\"stdout\": \"binary://" + driver
                + "?--password=hunter2&-v&api_token=s3cr3t&level=debug\"}}").path("id").asString();
        assertThat(admin.awaitExit(id).path("exitCode").asInt()).isZero();
        String start = auditLine(output, "exec.start", id);
        // the query's pairs become "key value" arguments: a value is masked by its key, with dashes or without
        assertThat(start).contains("\"command\":[\"true\"]", "\"io\":{\"driver\":\"" + driver + "\"",
                "\"driverArguments\":[\"--password\",\"***\",\"-v\",\"api_token\",\"***\",\"level\",\"debug\"]");
        assertThat(output.getAll()).doesNotContain("hunter2").doesNotContain("s3cr3t");
        // Without io, the line says so.
        String plain = admin.create("{\"command\": [\"true\"]}").path("id").asString();
        assertThat(auditLine(output, "exec.start", plain)).contains("\"io\":null");
    }

    @Test
    void bodiesArgvAndRunningExecsAreLimited(CapturedOutput output) throws Exception {
        String big = "x".repeat(3 * 1024 * 1024);
        admin.post("/api/v1/host/execs/run", "{\"command\": [\"true\"], \"input\": \"" + big + "\"}")
                .isProblem(413, "REQUEST_TOO_LARGE");
        // the same without a Content-Length: the body is cut off while it is read
        HttpResponse<String> chunked = HTTP.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/api/v1/host/execs/run"))
                .header("Authorization", "Bearer " + Api.ADMIN_TOKEN).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(
                        ("{\"command\": [\"true\"], \"input\": \"" + big + "\"}").getBytes(StandardCharsets.UTF_8))))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(chunked.statusCode()).isEqualTo(413);
        assertThat(chunked.body()).contains("REQUEST_TOO_LARGE");

        String arg = "y".repeat(200 * 1024);
        assertThat(admin.post("/api/v1/host/execs", "{\"command\": [\"echo\", \"" + arg + "\"]}")
                .isProblem(400, "INVALID_REQUEST").json().path("errors").get(0).path("field").asString()).isEqualTo("command[1]");

        String first = admin.create("{\"command\": [\"sleep\", \"30\"]}").path("id").asString();
        String second = admin.create("{\"command\": [\"sleep\", \"30\"]}").path("id").asString();
        try {
            var refused = admin.post("/api/v1/host/execs", "{\"command\": [\"true\"]}").isProblem(429, "TOO_MANY_EXECS");
            assertThat(refused.headers().getFirst("Retry-After")).isEqualTo("1");
            assertThat(refused.json().path("detail").asString()).contains("admin");
            assertThat(output.getAll()).contains("\"event\":\"exec.refused\",\"principal\":\"admin\"");
        } finally {
            admin.delete("/api/v1/execs/" + first);
            admin.delete("/api/v1/execs/" + second);
        }
    }

    private static String auditLine(CapturedOutput output, String event, String execId) {
        return output.getAll().lines().filter(l -> l.contains("execgate.audit") && l.contains("\"event\":\"" + event + "\"")
                && l.contains(execId)).findFirst().orElseThrow(() -> new AssertionError("no " + event + " line for " + execId));
    }

    private URI ws(String path) {
        return URI.create("ws://127.0.0.1:" + port + path);
    }
}
