package io.execgate.host.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import io.execgate.host.StartFailure;
import io.execgate.host.StartFailure.Kind;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The agent's ERROR codes, with messages as agent.c words them, map to kinds of start failure by the code alone. */
class AgentSessionTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            127 | /no/such: command not found           | EXECUTABLE_NOT_FOUND
            126 | /etc/passwd: Permission denied        | NOT_EXECUTABLE
            2   | chdir: No such file or directory      | BAD_WORKING_DIR
            3   | setgid: Operation not permitted       | BAD_USER
            1   | pty: No such file or directory        | BACKEND_ERROR
            1   | open tty: Not a directory             | BACKEND_ERROR
            1   | fork: Resource temporarily unavailable | BACKEND_ERROR
            """)
    void codesMapToKinds(int code, String message, Kind kind) {
        StartFailure failure = AgentSession.startFailure(new AgentPayloads.Error(code, message));
        assertThat(failure.kind()).isEqualTo(kind);
        assertThat(failure.getMessage()).isEqualTo(message);
    }
}
