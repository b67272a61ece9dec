package io.execgate.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.BDDMockito.given;
import static org.mockito.BDDMockito.willThrow;
import static org.mockito.Mockito.verifyNoInteractions;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledThreadPoolExecutor;

import io.execgate.api.ApiException;
import io.execgate.api.ErrorCode;
import io.execgate.host.Signal;
import io.execgate.host.TargetKind;
import io.execgate.host.TargetRef;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.webmvc.test.autoconfigure.AutoConfigureMockMvc;
import org.springframework.boot.webmvc.test.autoconfigure.WebMvcTest;
import org.springframework.context.annotation.Import;
import org.springframework.http.MediaType;
import org.springframework.test.context.bean.override.mockito.MockitoBean;
import org.springframework.test.web.servlet.assertj.MockMvcTester;
import org.springframework.test.web.servlet.assertj.MvcTestResult;

/**
 * The exec controllers' request handling and error mapping, with the service mocked. Security is left out of this
 * slice (SecurityIT covers it over real HTTP).
 */
@WebMvcTest(controllers = {ExecController.class, TargetExecController.class})
@AutoConfigureMockMvc(addFilters = false)
@Import(ExecControllerTest.Properties.class)
class ExecControllerTest {

    /** The exec settings, bound as the application binds them (a slice leaves out the scan that finds them). */
    @TestConfiguration(proxyBeanMethods = false)
    @EnableConfigurationProperties(ExecProperties.class)
    static class Properties {
    }

    private static final TargetRef HOST = new TargetRef(TargetKind.HOST, "node-1");

    @Autowired
    MockMvcTester mvc;

    @MockitoBean
    ExecService execs;

    @Test
    void createAnswers201WithLocationAndTheResource() {
        Exec exec = exec();
        given(execs.hostTarget()).willReturn(HOST);
        given(execs.create(eq(HOST), any())).willReturn(exec);
        MvcTestResult result = post("/api/v1/host/execs", "{\"command\":[\"sh\",\"-c\",\"echo hi\"],\"env\":[\"A=1\"]}");
        assertThat(result).hasStatus(201).hasHeader("Location", "/api/v1/execs/e_slice");
        assertThat(result).bodyJson().extractingPath("$.state").isEqualTo("created");
        assertThat(result).bodyJson().extractingPath("$.target.kind").isEqualTo("host");
        assertThat(result).bodyJson().extractingPath("$.exitCode").isNull();
        assertThat(result).bodyJson().extractingPath("$.links.exit").isEqualTo("/api/v1/execs/e_slice/exit");
    }

    @Test
    void malformedJsonIsAnInvalidRequest() {
        MvcTestResult result = post("/api/v1/host/execs", "{\"command\": [\"ls\"");
        assertProblem(result, 400, "INVALID_REQUEST");
        assertThat(result).bodyJson().extractingPath("$.detail").asString().startsWith("malformed JSON at line 1");
        verifyNoInteractions(execs);
    }

    @Test
    void unknownFieldsAreRejectedByName() {
        MvcTestResult result = post("/api/v1/host/execs", "{\"command\":[\"ls\"],\"Cmd\":[\"ls\"]}");
        assertProblem(result, 400, "INVALID_REQUEST");
        assertThat(result).bodyJson().extractingPath("$.errors[0].field").isEqualTo("Cmd");
        assertThat(result).bodyJson().extractingPath("$.errors[0].message").isEqualTo("unknown field");
    }

    @Test
    void missingOrEmptyCommandsAreRejected() {
        assertThat(post("/api/v1/host/execs", "{}")).bodyJson().extractingPath("$.errors[0].field").isEqualTo("command");
        assertThat(post("/api/v1/host/execs", "{\"command\":[]}")).bodyJson().extractingPath("$.errors[0].field")
                .isEqualTo("command");
        assertThat(post("/api/v1/host/execs", "{\"command\":\"ls -l\"}")).bodyJson()
                .extractingPath("$.errors[0].message").isEqualTo("must be an array");
        assertProblem(post("/api/v1/host/execs/run", "{\"command\":[\"ls\", null]}"), 400, "INVALID_REQUEST");
        verifyNoInteractions(execs);
    }

    @Test
    void badEnvEntriesAreNamedByIndex() {
        MvcTestResult result = post("/api/v1/host/execs", "{\"command\":[\"ls\"],\"env\":[\"OK=1\",\"=x\",\"NOVALUE\"]}");
        assertProblem(result, 400, "INVALID_REQUEST");
        assertThat(result).bodyJson().extractingPath("$.errors[*].field").asArray().containsExactlyInAnyOrder("env[1]", "env[2]");
    }

    @Test
    void badNumbersAreRejected() {
        assertThat(post("/api/v1/host/execs", "{\"command\":[\"ls\"],\"timeoutSeconds\":-1}")).bodyJson()
                .extractingPath("$.errors[0].field").isEqualTo("timeoutSeconds");
        assertThat(post("/api/v1/host/execs/run", "{\"command\":[\"ls\"],\"maxOutputBytes\":16777217}")).bodyJson()
                .extractingPath("$.errors[0].field").isEqualTo("maxOutputBytes");
        assertThat(post("/api/v1/host/execs", "{\"command\":[\"ls\"],\"consoleSize\":{\"width\":0,\"height\":24}}"))
                .bodyJson().extractingPath("$.errors[0].field").isEqualTo("consoleSize.width");
        assertThat(post("/api/v1/host/execs", "{\"command\":[\"ls\"],\"tty\":\"maybe\"}")).bodyJson()
                .extractingPath("$.errors[0].field").isEqualTo("tty");
        // too large for the member's type: the parser's error, still named by the member
        var tooLarge = post("/api/v1/host/execs", "{\"command\":[\"ls\"],\"timeoutSeconds\":3000000000}");
        assertProblem(tooLarge, 400, "INVALID_REQUEST");
        assertThat(tooLarge).bodyJson().extractingPath("$.errors[0].field").isEqualTo("timeoutSeconds");
        assertThat(tooLarge).bodyJson().extractingPath("$.errors[0].message").asString().contains("out of range");
        assertThat(post("/api/v1/host/execs", "{\"command\":[\"ls\"],\"consoleSize\":{\"width\":99999999999,\"height\":24}}"))
                .bodyJson().extractingPath("$.errors[0].field").isEqualTo("consoleSize.width");
    }

    @Test
    void badWaitDurationsAreRejected() {
        for (String wait : List.of("30s", "PT-1S", "PT6M", "P1D")) {
            MvcTestResult result = mvc.get().uri("/api/v1/execs/e_1/exit?wait=" + wait).exchange();
            assertProblem(result, 400, "INVALID_REQUEST");
            assertThat(result).bodyJson().extractingPath("$.errors[0].field").isEqualTo("wait");
        }
        verifyNoInteractions(execs);
    }

    @Test
    void exitAnswersPendingWhenTheWaitEndsFirst() {
        given(execs.awaitEnd("e_1", Duration.ofSeconds(2))).willReturn(null);
        MvcTestResult result = mvc.get().uri("/api/v1/execs/e_1/exit?wait=PT2S").exchange();
        assertThat(result).hasStatusOk().bodyJson().extractingPath("$.exited").isEqualTo(false);
    }

    @Test
    void unknownSignalsAreInvalidAndKnownOnesAccepted() {
        assertThat(post("/api/v1/execs/e_1/signal", "{\"signal\":\"SIGNOPE\"}")).hasStatus(400).bodyJson()
                .extractingPath("$.errors[0].field").isEqualTo("signal");
        assertThat(post("/api/v1/execs/e_1/signal", "{\"signal\":9}")).hasStatus(202);
        org.mockito.Mockito.verify(execs).signal("e_1", Signal.SIGKILL);
    }

    @Test
    void serviceErrorsBecomeProblemsWithTheirCodes() {
        willThrow(new ApiException(ErrorCode.EXEC_NOT_RUNNING, "exec e_1 is exited, not running"))
                .given(execs).closeStdin("e_1");
        MvcTestResult result = mvc.post().uri("/api/v1/execs/e_1/close-stdin").exchange();
        assertProblem(result, 409, "EXEC_NOT_RUNNING");
        assertThat(result).bodyJson().extractingPath("$.instance").isEqualTo("/api/v1/execs/e_1/close-stdin");
        assertThat(result).bodyJson().extractingPath("$.type").isEqualTo("urn:execgate:problem:exec-not-running");
    }

    @Test
    void outputErrorsAreProblemsEvenWhenBytesWereAskedFor() {
        given(execs.output("e_404", "stdout")).willThrow(new ApiException(ErrorCode.EXEC_NOT_FOUND, "no exec has the id e_404"));
        MvcTestResult result = mvc.get().uri("/api/v1/execs/e_404/output").accept(MediaType.APPLICATION_OCTET_STREAM).exchange();
        assertProblem(result, 404, "EXEC_NOT_FOUND");
    }

    @Test
    void errorsAreProblemsWhateverTheRequestAccepts() {
        given(execs.get("e_404")).willThrow(new ApiException(ErrorCode.EXEC_NOT_FOUND, "no exec has the id e_404"));
        // what a browser sends: JSON is acceptable through */*, and so is the problem
        assertProblem(mvc.get().uri("/api/v1/execs/e_404").header("Accept", "text/html,*/*;q=0.8").exchange(),
                404, "EXEC_NOT_FOUND");
        // a client that takes HTML only is told so, still in problem+json
        assertProblem(mvc.get().uri("/api/v1/execs/e_404").accept(MediaType.TEXT_HTML).exchange(), 406, "NOT_ACCEPTABLE");
    }

    @Test
    void badListFiltersAreRejected() {
        assertThat(mvc.get().uri("/api/v1/execs?target=pod/x").exchange()).bodyJson()
                .extractingPath("$.errors[0].field").isEqualTo("target");
        assertThat(mvc.get().uri("/api/v1/execs?state=done").exchange()).bodyJson()
                .extractingPath("$.errors[0].field").isEqualTo("state");
        assertThat(mvc.get().uri("/api/v1/execs?limit=1001").exchange()).hasStatus(400).bodyJson()
                .extractingPath("$.errors[0].field").isEqualTo("limit");
        verifyNoInteractions(execs);
    }

    @Test
    void unsupportedMediaTypesAndMethodsHaveCodesToo() {
        assertProblem(mvc.post().uri("/api/v1/host/execs").contentType(MediaType.TEXT_PLAIN).content("ls").exchange(),
                415, "UNSUPPORTED_MEDIA_TYPE");
        assertProblem(mvc.put().uri("/api/v1/execs/e_1").exchange(), 405, "METHOD_NOT_ALLOWED");
    }

    private MvcTestResult post(String uri, String json) {
        return mvc.post().uri(uri).contentType(MediaType.APPLICATION_JSON).content(json).exchange();
    }

    private static void assertProblem(MvcTestResult result, int status, String code) {
        assertThat(result).hasStatus(status).hasContentType(MediaType.APPLICATION_PROBLEM_JSON);
        assertThat(result).bodyJson().extractingPath("$.code").isEqualTo(code);
        assertThat(result).bodyJson().extractingPath("$.status").isEqualTo(status);
    }

    private static Exec exec() {
        ExecRuntime runtime = new ExecRuntime(new ScheduledThreadPoolExecutor(1), Clock.systemUTC(), Duration.ZERO,
                Duration.ZERO);
        return new Exec("e_slice", HOST, List.of("sh", "-c", "echo hi"), false, false, Duration.ZERO,
                new OutputBuffer(16, OutputBuffer.Policy.KEEP_NEWEST), new OutputBuffer(16, OutputBuffer.Policy.KEEP_NEWEST),
                runtime, e -> { });
    }
}
