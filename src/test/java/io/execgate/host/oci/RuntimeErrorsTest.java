package io.execgate.host.oci;

import static org.assertj.core.api.Assertions.assertThat;

import io.execgate.host.StartFailure.Kind;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The runtimes' own start-failure messages, as runc 1.1.5 and crun 1.8.1 print them, map to the right kind. */
class RuntimeErrorsTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            exec failed: unable to start container process: exec: "sh": executable file not found in $PATH | EXECUTABLE_NOT_FOUND
            executable file `sh` not found in $PATH: No such file or directory                                | EXECUTABLE_NOT_FOUND
            exec failed: unable to start container process: exec: "/bin/nosuch": stat /bin/nosuch: no such file or directory | EXECUTABLE_NOT_FOUND
            exec failed: unable to start container process: exec: "/etc/plain": permission denied            | NOT_EXECUTABLE
            open executable: Permission denied                                                                | NOT_EXECUTABLE
            open executable: Operation not permitted                                                          | NOT_EXECUTABLE
            exec failed: unable to start container process: chdir to cwd ("/x") set in config.json failed: no such file or directory | BAD_WORKING_DIR
            chdir `/x`: No such file or directory                                                             | BAD_WORKING_DIR
            exec failed: open /run/runc/k1/state.json: permission denied                                      | ACCESS_DENIED
            exec failed: lstat /run/runc/k1: permission denied                                                | ACCESS_DENIED
            error opening file `/run/crun/k1/status`: Permission denied                                       | ACCESS_DENIED
            cannot exec in a stopped container                                                                | TARGET_GONE
            cannot exec in a paused container (use --ignore-paused to override)                               | TARGET_GONE
            container does not exist                                                                          | TARGET_GONE
            the container `k1` is not running                                                                 | TARGET_GONE
            error opening file `/run/crun/k1/status`: No such file or directory                               | TARGET_GONE
            exec failed: unable to start container process: setgroups: invalid argument                       | BAD_USER
            exec failed: unable to start container process: setgroups: operation not permitted               | BAD_USER
            exec container process `/etc/passwd`: Permission denied                                           | NOT_EXECUTABLE
            something nobody foresaw                                                                          | BACKEND_ERROR
            """)
    void messagesMapToKinds(String message, Kind kind) {
        assertThat(RuntimeErrors.kind(message)).isEqualTo(kind);
    }
}
