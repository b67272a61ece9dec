package io.execgate.host.hcs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import io.execgate.host.ConsoleSize;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The schema v2 documents, field by field against the reference's examples. */
class HcsDocumentsTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void processParametersForAWindowsConsoleAreTheReferencesExample() {
        JsonNode p = JSON.readTree(HcsDocuments.processParameters(List.of("cmd", "/c", "echo hi"), HcsDocuments.Flavor.WINDOWS, "C:\\",
                Map.of("FOO", "bar"), null, true, new ConsoleSize(80, 24), true, true, true));
        JsonNode expected = JSON.readTree("""
                {"CommandLine":"cmd /c \\"echo hi\\"","WorkingDirectory":"C:\\\\","Environment":{"FOO":"bar"},
                 "EmulateConsole":true,"ConsoleSize":[24,80],"CreateStdInPipe":true,"CreateStdOutPipe":true}""");
        assertThat(p).isEqualTo(expected); // no stderr pipe with a console, no unset members
    }

    @Test
    void aLinuxContainerGetsAnOciProcessAndTheUvmsAgentCommandArgs() {
        JsonNode oci = JSON.readTree(HcsDocuments.processParameters(List.of("sh", "-c", "id"),
                HcsDocuments.Flavor.LINUX_CONTAINER, null, Map.of("FOO", "bar"), "app", true, new ConsoleSize(100, 40),
                true, true, true));
        assertThat(oci).isEqualTo(JSON.readTree("""
                {"OciProcess":{"args":["sh","-c","id"],"env":["FOO=bar"],"cwd":"/","terminal":true,
                               "consoleSize":{"height":40,"width":100},"user":{"username":"app"}},
                 "CreateStdInPipe":true,"CreateStdOutPipe":true}"""));
        JsonNode p = JSON.readTree(HcsDocuments.processParameters(List.of("sh", "-c", "id"), HcsDocuments.Flavor.LINUX_GUEST, null, Map.of(),
                "1000:1000", false, null, false, true, true));
        assertThat(p).isEqualTo(JSON.readTree("""
                {"CommandArgs":["sh","-c","id"],"User":"1000:1000","CreateStdOutPipe":true,"CreateStdErrPipe":true}"""));
    }

    @Test
    void modifyAndSignalDocuments() {
        assertThat(HcsDocuments.consoleSize(new ConsoleSize(120, 50)))
                .isEqualTo("{\"Operation\":\"ConsoleSize\",\"ConsoleSize\":{\"Height\":50,\"Width\":120}}");
        assertThat(HcsDocuments.closeStdin()).isEqualTo("{\"Operation\":\"CloseHandle\",\"CloseHandle\":{\"Handle\":\"StdIn\"}}");
        assertThat(HcsDocuments.signal(15)).isEqualTo("{\"Signal\":15}");
        assertThat(HcsDocuments.signal("CtrlBreak")).isEqualTo("{\"Signal\":\"CtrlBreak\"}");
    }

    @Test
    void processStatusReadsAbsentMembersAsZeroAndExitCodesUnsigned() {
        assertThat(HcsDocuments.processStatus("{\"ProcessId\":4242,\"Exited\":true,\"ExitCode\":0,\"LastWaitResult\":0}"))
                .isEqualTo(new HcsDocuments.ProcessStatus(4242, true, 0, 0));
        assertThat(HcsDocuments.processStatus("{\"ProcessId\":7,\"Exited\":true}"))
                .isEqualTo(new HcsDocuments.ProcessStatus(7, true, 0, 0));
        assertThat(HcsDocuments.processStatus("{\"ExitCode\":3221225477}").exitCode()).isEqualTo(0xC0000005L);
        assertThat(HcsDocuments.processStatus(null)).as("no status: the exit is unknown").isNull();
        assertThat(HcsDocuments.processStatus("not json")).isNull();
        assertThat(HcsDocuments.processStatus("{\"Exited\":true,\"LastWaitResult\":2151088398}").lastWaitResult())
                .as("an HRESULT written unsigned").isEqualTo(0x8037010E);
    }

    @Test
    void resultErrorsReadAsHcsshimPrintsThem() {
        String described = HcsDocuments.describeError("""
                {"Error":-2143878899,"ErrorMessage":"The JSON document is invalid.","ErrorEvents":[{"Message":"bad",
                 "StackTrace":"at x","Provider":"17103e3f-3c6e-4677-bb17-3b267eb5be57","EventId":11,"Source":"vmcompute"}]}""");
        assertThat(described).isEqualTo("The JSON document is invalid. [Event Detail: bad Stack Trace: at x Provider: "
                + "17103e3f-3c6e-4677-bb17-3b267eb5be57 EventID: 11 Source: vmcompute]");
        assertThat(HcsDocuments.describeError(null)).isNull();
        assertThat(HcsDocuments.systems("[{\"Id\":\"a\",\"SystemType\":\"Container\",\"Owner\":\"o\"},{\"SystemType\":\"x\"}]"))
                .containsExactly(new HcsDocuments.SystemProperties("a", "Container", "o", null, null));
    }
}
