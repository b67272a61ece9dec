package io.execgate.host.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.execgate.host.ConsoleSize;
import io.execgate.host.ExitReason;
import io.execgate.host.ExitStatus;
import io.execgate.host.HostProcess;
import io.execgate.host.ProcessSpec;
import io.execgate.host.Signal;
import io.execgate.host.StartFailure;
import io.execgate.host.TargetKind;
import io.execgate.host.TargetRef;
import io.execgate.support.Processes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local backend against real processes. */
class LocalProcessHostIT {

    private static final String DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    private final LocalProcessHost host = new LocalProcessHost(new TargetRef(TargetKind.HOST, "test"),
            new LocalHostProperties(true, List.of(DEFAULT_PATH), "/"), UserLookup.system(), "/usr/bin/setpriv",
            Clock.systemUTC());
    private final List<HostProcess> started = new ArrayList<>();
    private final List<Long> strays = new ArrayList<>();
    private final List<Long> sessions = new ArrayList<>();

    @TempDir
    Path dir;

    @AfterEach
    void cleanUp() {
        for (HostProcess process : started) {
            try {
                process.kill();
            } catch (IOException ignored) {
                // already gone
            }
            process.close();
        }
        strays.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        for (long sid : sessions) {
            try {
                Processes.killSession(sid);
            } catch (IOException ignored) {
                // nothing to clean up
            }
        }
    }

    @Test
    void exitCodesComeBackAsTheyWere() throws Exception {
        for (int code : new int[] {0, 3, 255}) {
            ExitStatus exit = run("sh", "-c", "exit " + code).exit();
            assertThat(exit.exitCode()).isEqualTo(code);
            assertThat(exit.signal()).isNull();
            assertThat(exit.reason()).isEqualTo(ExitReason.EXITED);
        }
    }

    @Test
    void aSignalledProcessIsToldApartFromOneThatExitedWithTheSameCode() throws Exception {
        Result killed = run("sh", "-c", "kill -9 $$");
        assertThat(killed.exit().signal()).isEqualTo("SIGKILL");
        assertThat(killed.exit().exitCode()).isEqualTo(137);
        assertThat(killed.exit().reason()).isEqualTo(ExitReason.KILLED);

        // Signal 33 is glibc's own (sigaction refuses it, posix_spawn leaves it ignored): a process that resets it
        // with a raw rt_sigaction, as a Go program may, can still die of it, and is not thereby lost.
        Result glibcs = run("python3", "-c", "import ctypes, os; ctypes.CDLL(None).syscall(13, 33, "
                + "ctypes.byref((ctypes.c_ulong * 4)()), None, 8); os.kill(os.getpid(), 33)");
        assertThat(glibcs.exit().signal()).isEqualTo("SIG33");
        assertThat(glibcs.exit().exitCode()).isEqualTo(161);
        assertThat(glibcs.exit().reason()).isEqualTo(ExitReason.KILLED);

        Result exited = run("sh", "-c", "exit 137");
        assertThat(exited.exit().signal()).isNull();
        assertThat(exited.exit().exitCode()).isEqualTo(137);
        assertThat(exited.exit().reason()).isEqualTo(ExitReason.EXITED);
    }

    @Test
    void signalsReachTheProcess() throws Exception {
        HostProcess process = start(spec(List.of("sleep", "60")));
        process.signal(Signal.parse("USR1"));
        ExitStatus exit = process.onExit().get(10, TimeUnit.SECONDS);
        assertThat(exit.signal()).isEqualTo("SIGUSR1");
        assertThat(exit.exitCode()).isEqualTo(138);
        process.signal(Signal.SIGKILL); // after the exit: nothing to do, no error
    }

    @Test
    void stdoutAndStderrAreSeparateAndStdinReachesTheProcess() throws Exception {
        HostProcess process = start(new ProcessSpec(List.of("sh", "-c", "cat; echo done >&2"), List.of(), null, null,
                false, null, true, true, true));
        CompletableFuture<String> out = readAll(process.stdout().orElseThrow());
        CompletableFuture<String> err = readAll(process.stderr().orElseThrow());
        try (OutputStream stdin = process.stdin().orElseThrow()) {
            stdin.write("héllo\n".getBytes(StandardCharsets.UTF_8));
        }
        assertThat(process.onExit().get(10, TimeUnit.SECONDS).exitCode()).isZero();
        assertThat(out.get(10, TimeUnit.SECONDS)).isEqualTo("héllo\n");
        assertThat(err.get(10, TimeUnit.SECONDS)).isEqualTo("done\n");
    }

    @Test
    void withoutAStdinPipeTheProcessReadsEndOfFile() throws Exception {
        Result result = run("sh", "-c", "cat; echo eof");
        assertThat(result.stdout()).isEqualTo("eof\n");
    }

    @Test
    void theServiceEnvironmentIsNeverPassedOn() throws Exception {
        HostProcess process = start(new ProcessSpec(List.of("env"), List.of("FOO=bar", "PATH=/usr/bin:/bin"), null, null,
                false, null, false, true, true));
        String out = readAll(process.stdout().orElseThrow()).get(10, TimeUnit.SECONDS);
        assertThat(out.lines()).containsExactlyInAnyOrder("PATH=/usr/bin:/bin", "FOO=bar",
                "HOME=" + new UserLookup(Path.of("/etc/passwd"), Path.of("/etc/group"))
                        .home(Libc.INSTANCE.geteuid()).orElse("/"));
    }

    @Test
    void theWorkingDirectoryIsApplied() throws Exception {
        HostProcess process = start(new ProcessSpec(List.of("pwd"), List.of(), dir.toString(), null, false, null,
                false, true, true));
        assertThat(readAll(process.stdout().orElseThrow()).get(10, TimeUnit.SECONDS)).isEqualTo(dir + "\n");
        assertThat(run("pwd").stdout()).as("the configured default").isEqualTo("/\n");
    }

    @Test
    void theProcessLeadsItsOwnSessionWithOnlyItsStandardStreamsAndDefaultSignals() throws Exception {
        // ls runs on its own, not in a pipeline or $(...): the shell would hold that pipe's descriptor while ls
        // lists the shell's descriptors
        HostProcess process = start(spec(List.of("sh", "-c",
                "cut -d' ' -f5,6 /proc/$$/stat; echo fds; ls /proc/$$/fd; echo end; "
                        + "grep -E 'SigBlk|SigIgn' /proc/$$/status | cut -f2")));
        List<String> lines = readAll(process.stdout().orElseThrow()).get(10, TimeUnit.SECONDS).lines().toList();
        assertThat(lines.getFirst()).as("process group and session").isEqualTo(process.pid() + " " + process.pid());
        assertThat(lines.subList(lines.indexOf("fds") + 1, lines.indexOf("end"))).as("open descriptors")
                .containsExactly("0", "1", "2");
        int end = lines.indexOf("end");
        assertThat(Long.parseLong(lines.get(end + 1), 16)).as("blocked signals").isZero();
        // glibc's posix_spawn leaves its two internal signals (32 and 33) ignored; nothing else may be
        assertThat(Long.parseLong(lines.get(end + 2), 16) & ~0x180000000L).as("ignored signals").isZero();
    }

    @Test
    void terminateReachesWhatTheProcessStarted() throws Exception {
        HostProcess process = start(spec(List.of("sh", "-c", "sleep 600 & echo $!; wait")));
        long child = Long.parseLong(firstLine(process.stdout().orElseThrow()));
        strays.add(child);
        assertThat(ProcessHandle.of(child)).isPresent();
        process.terminate();
        ExitStatus exit = process.onExit().get(10, TimeUnit.SECONDS);
        assertThat(exit.signal()).isEqualTo("SIGTERM");
        assertThat(exit.exitCode()).isEqualTo(143);
        assertThat(Processes.awaitGone(child, 5_000)).as("the grandchild got SIGTERM too").isTrue();
    }

    @Test
    void whatIgnoresSigtermIsKilledOnceTheTerminatedLeaderHasExited() throws Exception {
        HostProcess process = start(spec(List.of("sh", "-c", "(trap '' TERM; exec sleep 600) & echo $!; wait")));
        long stubborn = Long.parseLong(firstLine(process.stdout().orElseThrow()));
        strays.add(stubborn);
        process.terminate();
        assertThat(process.onExit().get(10, TimeUnit.SECONDS).signal()).isEqualTo("SIGTERM");
        assertThat(Processes.awaitGone(stubborn, 5_000)).as("the child that ignored SIGTERM").isTrue();
    }

    @Test
    void terminatingATerminalHangsUpTheShellAndEndsItsJobs() throws Exception {
        // An interactive shell on a terminal ignores SIGTERM and puts each job in a process group of its own.
        HostProcess process = startJobs("sleep 300 & sleep 300");
        process.terminate();
        assertThat(process.onExit().get(10, TimeUnit.SECONDS).signal()).as("the shell hung up").isEqualTo("SIGHUP");
        assertThat(Processes.awaitSessionGone(process.pid(), 5_000)).as("what is left of the exec's session").isEmpty();
    }

    @Test
    void aJobThatIgnoresTheHangUpIsKilledOnceTheTerminatedShellHasExited() throws Exception {
        HostProcess process = startJobs("(trap '' HUP TERM; exec sleep 300) & sleep 300");
        process.terminate();
        assertThat(process.onExit().get(10, TimeUnit.SECONDS).signal()).isEqualTo("SIGHUP");
        assertThat(Processes.awaitSessionGone(process.pid(), 5_000)).as("what is left of the exec's session").isEmpty();
    }

    @Test
    void killingATerminalExecKillsEveryProcessOfItsSession() throws Exception {
        HostProcess process = startJobs("sleep 300 & sleep 300");
        process.kill();
        assertThat(process.onExit().get(10, TimeUnit.SECONDS).signal()).isEqualTo("SIGKILL");
        assertThat(Processes.awaitSessionGone(process.pid(), 5_000)).as("what is left of the exec's session").isEmpty();
    }

    /** An interactive bash on a terminal running {@code jobs}, once its two jobs run. */
    private HostProcess startJobs(String jobs) throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/bin/bash")), "needs bash");
        HostProcess process = start(terminal(List.of("bash", "--norc", "-i", "-c", jobs), null));
        sessions.add(process.pid());
        readAll(process.stdout().orElseThrow()); // drained, so the shell never waits on the terminal
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (Processes.sessionMembers(process.pid()).size() < 3 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(Processes.sessionMembers(process.pid())).as("the shell and its two jobs").hasSize(3);
        return process;
    }

    @Test
    void withoutTerminationChildrenOutliveTheirLeaderAsWithDockerExec() throws Exception {
        HostProcess process = start(spec(List.of("sh", "-c", "sleep 600 & echo $!")));
        long child = Long.parseLong(firstLine(process.stdout().orElseThrow()));
        strays.add(child);
        assertThat(process.onExit().get(10, TimeUnit.SECONDS).exitCode()).isZero();
        Thread.sleep(200);
        assertThat(Processes.isGone(child)).isFalse();
    }

    @Test
    void closingUnblocksAReaderWhenAGrandchildHoldsThePipe() throws Exception {
        HostProcess process = start(spec(List.of("sh", "-c", "sleep 600 & echo $!")));
        InputStream stdout = process.stdout().orElseThrow();
        long child = Long.parseLong(firstLine(stdout));
        strays.add(child);
        assertThat(process.onExit().get(10, TimeUnit.SECONDS).exitCode()).isZero();
        CompletableFuture<Integer> blockedRead = CompletableFuture.supplyAsync(() -> {
            try {
                return stdout.read();
            } catch (IOException e) {
                return -2;
            }
        });
        Thread.sleep(300);
        assertThat(blockedRead).as("the grandchild keeps the pipe open").isNotDone();
        process.close();
        assertThat(blockedRead.get(5, TimeUnit.SECONDS)).isIn(-1, -2);
    }

    @Test
    void commandsCanRunAsAnotherUser() throws Exception {
        assumeTrue(Libc.INSTANCE.geteuid() == 0, "switching users needs root");
        HostProcess process = start(new ProcessSpec(List.of("sh", "-c", "id -u; id -g; echo $$; echo $HOME"), List.of(),
                null, "65534:65534", false, null, false, true, true));
        List<String> lines = readAll(process.stdout().orElseThrow()).get(10, TimeUnit.SECONDS).lines().toList();
        assertThat(lines.subList(0, 2)).containsExactly("65534", "65534");
        assertThat(lines.get(2)).as("setpriv execs in place, so the pid is the command's").isEqualTo(String.valueOf(process.pid()));
        assertThat(process.onExit().get(10, TimeUnit.SECONDS).exitCode()).isZero();

        Path script = dir.resolve("owner-only");
        Files.writeString(script, "#!/bin/sh\necho ran\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertStartFailure(new ProcessSpec(List.of(script.toString()), List.of(), null, "65534", false, null, false,
                true, true), StartFailure.Kind.NOT_EXECUTABLE, "permission denied");
        assertThat(run(script.toString()).stdout()).as("root may run it").isEqualTo("ran\n");
    }

    /**
     * {@code name:group} narrows, as in runc and Docker: the named group is the only one, not added to the user's
     * memberships. Needs a user that has some (postgres on a machine with it, say); skipped where none has.
     */
    @Test
    void aNamedGroupIsTheOnlyGroupAndANameAloneBringsItsMemberships() throws Exception {
        assumeTrue(Libc.INSTANCE.geteuid() == 0, "switching users needs root");
        List<String> passwd = Files.readAllLines(Path.of("/etc/passwd"));
        String member = Files.readAllLines(Path.of("/etc/group")).stream().map(line -> line.split(":", -1))
                .filter(fields -> fields.length == 4 && !fields[3].isEmpty()).map(fields -> fields[3].split(",")[0])
                .filter(name -> passwd.stream().anyMatch(line -> line.startsWith(name + ":"))).findFirst().orElse(null);
        assumeTrue(member != null, "no user here is a member of a group in /etc/group");
        HostProcess narrowed = start(new ProcessSpec(List.of("id", "-G"), List.of(), null, member + ":65534", false, null,
                false, true, true));
        assertThat(readAll(narrowed.stdout().orElseThrow()).get(10, TimeUnit.SECONDS).strip()).isEqualTo("65534");
        HostProcess whole = start(new ProcessSpec(List.of("id", "-G"), List.of(), null, member, false, null, false,
                true, true));
        assertThat(readAll(whole.stdout().orElseThrow()).get(10, TimeUnit.SECONDS).strip().split(" "))
                .as("the primary group and the memberships").hasSizeGreaterThan(1);
    }

    @Test
    void startFailuresAreTyped() throws Exception {
        assertStartFailure(spec(List.of("no-such-command-here")), StartFailure.Kind.EXECUTABLE_NOT_FOUND,
                "executable file not found in $PATH");
        assertStartFailure(spec(List.of("/no/such/file")), StartFailure.Kind.EXECUTABLE_NOT_FOUND, "no such file");
        Path notExecutable = Files.writeString(dir.resolve("data.txt"), "just text");
        assertStartFailure(spec(List.of(notExecutable.toString())), StartFailure.Kind.NOT_EXECUTABLE, "permission denied");
        Path binary = dir.resolve("garbage");
        Files.write(binary, new byte[] {1, 2, 3, 4});
        Files.setPosixFilePermissions(binary, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertStartFailure(spec(List.of(binary.toString())), StartFailure.Kind.NOT_EXECUTABLE, "exec format error");
        assertStartFailure(new ProcessSpec(List.of("pwd"), List.of(), "/no/such/dir", null, false, null, false, true,
                true), StartFailure.Kind.BAD_WORKING_DIR, "does not exist");
        assertStartFailure(new ProcessSpec(List.of("pwd"), List.of(), "relative", null, false, null, false, true, true),
                StartFailure.Kind.BAD_WORKING_DIR, "absolute");
        assertStartFailure(new ProcessSpec(List.of("id"), List.of(), null, "no-such-user", false, null, false, true,
                true), StartFailure.Kind.BAD_USER, "unable to find user no-such-user");
    }

    @Test
    void aTerminalHasItsSizeBeforeTheCommandLooks() throws Exception {
        for (int i = 0; i < 100; i++) {
            HostProcess process = start(terminal(List.of("stty", "size"), new ConsoleSize(100, 40)));
            String out = readAll(process.stdout().orElseThrow()).get(10, TimeUnit.SECONDS);
            assertThat(out).as("run %d", i).isEqualTo("40 100\r\n");
            assertThat(process.onExit().get(10, TimeUnit.SECONDS).exitCode()).isZero();
        }
    }

    @Test
    void aTerminalIsTheControllingTerminalAndMergesStderr() throws Exception {
        HostProcess process = start(terminal(List.of("sh", "-c",
                "tty; echo out; echo err >&2; echo $TERM; cut -d' ' -f5,6,8 /proc/$$/stat"), null));
        assertThat(process.stderr()).isEmpty();
        List<String> lines = readAll(process.stdout().orElseThrow()).get(10, TimeUnit.SECONDS).lines().toList();
        assertThat(lines.getFirst()).startsWith("/dev/pts/");
        assertThat(lines.subList(1, 4)).containsExactly("out", "err", "xterm");
        String[] ids = lines.get(4).split(" ");
        assertThat(ids[0]).as("process group").isEqualTo(String.valueOf(process.pid()));
        assertThat(ids[1]).as("session").isEqualTo(String.valueOf(process.pid()));
        assertThat(ids[2]).as("foreground process group of its terminal").isEqualTo(String.valueOf(process.pid()));
    }

    @Test
    void aTerminalCanBeResizedAndTypedInto() throws Exception {
        HostProcess process = start(terminal(List.of("sh", "-c", "stty size; read line; stty size; echo \"got $line\""),
                new ConsoleSize(80, 24)));
        InputStream out = process.stdout().orElseThrow();
        assertThat(firstLine(out)).isEqualTo("24 80\r");
        process.resize(new ConsoleSize(120, 50));
        OutputStream in = process.stdin().orElseThrow();
        in.write("hello\n".getBytes(StandardCharsets.UTF_8));
        in.flush();
        String rest = readAll(out).get(10, TimeUnit.SECONDS);
        assertThat(rest).contains("50 120\r\n", "got hello\r\n");
        assertThat(process.onExit().get(10, TimeUnit.SECONDS).exitCode()).isZero();
    }

    @Test
    void closingStdinOfATerminalIsEndOfFile() throws Exception {
        HostProcess process = start(terminal(List.of("sh", "-c", "cat >/dev/null; echo eof; exit 5"), null));
        CompletableFuture<String> out = readAll(process.stdout().orElseThrow());
        process.closeStdin();
        assertThat(process.onExit().get(10, TimeUnit.SECONDS).exitCode()).isEqualTo(5);
        assertThat(out.get(10, TimeUnit.SECONDS)).contains("eof");
    }

    @Test
    void noTerminalOutputIsLostWhenTheProcessExitsAtOnce() throws Exception {
        String expected = java.util.stream.IntStream.rangeClosed(1, 2000).mapToObj(i -> i + "\r\n")
                .collect(java.util.stream.Collectors.joining());
        for (int i = 0; i < 50; i++) {
            HostProcess process = start(terminal(List.of("seq", "1", "2000"), null));
            assertThat(readAll(process.stdout().orElseThrow()).get(10, TimeUnit.SECONDS)).as("run %d", i).isEqualTo(expected);
            process.close();
        }
    }

    @Test
    void aSignalledTerminalProcessKeepsItsSignal() throws Exception {
        HostProcess process = start(terminal(List.of("sleep", "600"), null));
        CompletableFuture<String> out = readAll(process.stdout().orElseThrow());
        process.signal(Signal.parse("INT"));
        assertThat(process.onExit().get(10, TimeUnit.SECONDS).signal()).isEqualTo("SIGINT");
        assertThat(out.get(5, TimeUnit.SECONDS)).as("the terminal hangs up with its session leader").isEmpty();
    }

    @Test
    void closingATerminalEndsABlockedRead() throws Exception {
        HostProcess process = start(terminal(List.of("sleep", "600"), null));
        CompletableFuture<String> out = readAll(process.stdout().orElseThrow());
        Thread.sleep(200);
        assertThat(out).isNotDone();
        process.close();
        assertThat(out.get(5, TimeUnit.SECONDS)).isEmpty();
        assertThatExceptionOfType(IOException.class).isThrownBy(() -> process.resize(new ConsoleSize(10, 10)));
    }

    private static ProcessSpec terminal(List<String> args, ConsoleSize size) {
        return new ProcessSpec(args, List.of(), null, null, true, size, true, true, false);
    }

    private void assertStartFailure(ProcessSpec spec, StartFailure.Kind kind, String message) {
        assertThatExceptionOfType(StartFailure.class).isThrownBy(() -> host.start(spec))
                .withMessageContaining(message).satisfies(e -> assertThat(e.kind()).isEqualTo(kind));
    }

    private record Result(ExitStatus exit, String stdout) {
    }

    private Result run(String... args) throws Exception {
        HostProcess process = start(spec(List.of(args)));
        CompletableFuture<String> out = readAll(process.stdout().orElseThrow());
        ExitStatus exit = process.onExit().get(10, TimeUnit.SECONDS);
        return new Result(exit, out.get(10, TimeUnit.SECONDS));
    }

    private HostProcess start(ProcessSpec spec) throws StartFailure {
        HostProcess process = host.start(spec);
        started.add(process);
        return process;
    }

    private static ProcessSpec spec(List<String> args) {
        return new ProcessSpec(args, List.of(), null, null, false, null, false, true, true);
    }

    private static CompletableFuture<String> readAll(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private static String firstLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            line.append((char) c);
        }
        return line.toString();
    }
}
