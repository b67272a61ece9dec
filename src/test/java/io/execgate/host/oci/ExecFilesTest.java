package io.execgate.host.oci;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The per-exec files: private, read the way each runtime writes them, and gone afterwards. */
class ExecFilesTest {

    @TempDir
    Path work;

    @Test
    void filesArePrivateAndDeletedWithTheirDirectory() throws Exception {
        ExecFiles files = ExecFiles.create(work, "{}".getBytes(StandardCharsets.UTF_8));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(files.dir()))).isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(files.process()))).isEqualTo("rw-------");
        assertThat(files.readPid()).isEmpty();
        Files.writeString(files.pid(), "4242"); // no newline, as the runtimes write it
        assertThat(files.readPid()).hasValue(4242);
        Files.writeString(files.dir().resolve("pid.tmp"), "1");
        files.delete();
        assertThat(files.dir()).doesNotExist();
        files.delete();
    }

    @Test
    void runcAndCrunErrorLogsAreRead() throws Exception {
        ExecFiles files = ExecFiles.create(work, new byte[0]);
        assertThat(files.readError()).isEmpty();
        Files.writeString(files.log(), """
                {"level":"warning","msg":"something minor","time":"2026-11-28T21:02:39Z"}
                {"level":"error","msg":"exec failed: unable to start container process: exec: \\"/x\\": permission denied","time":"2026-11-28T21:02:39Z"}
                """);
        assertThat(files.readError()).hasValue("exec failed: unable to start container process: exec: \"/x\": permission denied");
        // crun: objects with no newline between or after them
        Files.writeString(files.log(), "{\"msg\":\"first\",\"level\":\"error\",\"time\":\"t\"}"
                + "{\"msg\":\"open executable: Permission denied\",\"level\":\"error\",\"time\":\"t\"}");
        assertThat(files.readError()).hasValue("open executable: Permission denied");
        files.delete();
    }

    @Test
    void sweepRemovesWhatAnEarlierRunLeft() throws Exception {
        ExecFiles left = ExecFiles.create(work, new byte[0]);
        Files.writeString(left.pid(), "1");
        Path unrelated = Files.writeString(work.resolve("keep"), "x");
        ExecFiles.sweep(work);
        assertThat(left.dir()).doesNotExist();
        assertThat(unrelated).exists();
    }
}
