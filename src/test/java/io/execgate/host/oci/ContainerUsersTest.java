package io.execgate.host.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import io.execgate.host.StartFailure;
import io.execgate.host.StartFailure.Kind;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Users resolve against the container's own files, as Docker resolves them, and links out of it are refused. */
class ContainerUsersTest {

    @TempDir
    Path root;

    @BeforeEach
    void files() throws IOException {
        Files.createDirectories(root.resolve("etc"));
        Files.writeString(root.resolve("etc/passwd"), """
                root:x:0:0:root:/root:/bin/sh
                # a comment
                app:x:1000:1000:app:/home/app:/bin/sh
                svc:x:1001:50::/:/bin/false
                """);
        Files.writeString(root.resolve("etc/group"), """
                root:x:0:
                app:x:1000:
                extra:x:5:app,svc
                more:x:7:svc
                staff:x:50:
                """);
    }

    @Test
    void anExecAsAnotherUserKeepsTheGroupsAddedToTheContainerNotItsUsersOwn() {
        // the container runs as svc (gid 50, memberships 5 and 7) with 2000 added (a pod's fsGroup); containerd and
        // Docker list the primary gid among additionalGids too
        ContainerUsers.Identity svc = new ContainerUsers.Identity(1001, 50, List.of(5L, 7L));
        ContainerUsers.Identity container = new ContainerUsers.Identity(1001, 50, List.of(50L, 5L, 7L, 2000L));
        assertThat(ContainerUsers.withAddedGroups(new ContainerUsers.Identity(1000, 1000, List.of(5L)), container, svc))
                .isEqualTo(new ContainerUsers.Identity(1000, 1000, List.of(5L, 2000L)));
        assertThat(ContainerUsers.withAddedGroups(new ContainerUsers.Identity(1000, 2000, List.of()), container, svc))
                .as("not twice: the primary group").isEqualTo(new ContainerUsers.Identity(1000, 2000, List.of()));
        // a root container, as containerd writes it: 0 is root's own group, not one added
        assertThat(ContainerUsers.withAddedGroups(new ContainerUsers.Identity(65534, 65534, List.of()),
                new ContainerUsers.Identity(0, 0, List.of(0L, 10L, 2000L)), new ContainerUsers.Identity(0, 0, List.of(10L))))
                .isEqualTo(new ContainerUsers.Identity(65534, 65534, List.of(2000L)));
    }

    @Test
    void namesAndNumbersResolve() throws StartFailure {
        ContainerUsers users = new ContainerUsers(root);
        assertThat(users.resolve("app")).isEqualTo(new ContainerUsers.Identity(1000, 1000, List.of(5L)));
        assertThat(users.resolve("svc")).isEqualTo(new ContainerUsers.Identity(1001, 50, List.of(5L, 7L)));
        assertThat(users.resolve("1000")).as("a known uid takes its passwd gid")
                .isEqualTo(new ContainerUsers.Identity(1000, 1000, List.of(5L)));
        assertThat(users.resolve("4242")).as("an unknown uid runs with gid 0, as runc does")
                .isEqualTo(new ContainerUsers.Identity(4242, 0, List.of()));
        assertThat(users.resolve("4242:4343")).isEqualTo(new ContainerUsers.Identity(4242, 4343, List.of()));
        assertThat(users.resolve("app:staff")).as("a named group is the whole group list, as in runc")
                .isEqualTo(new ContainerUsers.Identity(1000, 50, List.of()));
        assertThat(users.resolve("svc")).as("the implicit form brings the memberships")
                .isEqualTo(new ContainerUsers.Identity(1001, 50, List.of(5L, 7L)));
    }

    @Test
    void unknownNamesAndBadSyntaxAreBadUsers() {
        ContainerUsers users = new ContainerUsers(root);
        for (String user : List.of("nobody", "app:nogroup", ":5", "app:", "99999999999")) {
            assertThatThrownBy(() -> users.resolve(user)).as(user).isInstanceOf(StartFailure.class)
                    .extracting(e -> ((StartFailure) e).kind()).isEqualTo(Kind.BAD_USER);
        }
    }

    @Test
    void aContainerWithoutPasswdTakesNumbersOnly() throws Exception {
        Files.delete(root.resolve("etc/passwd"));
        ContainerUsers users = new ContainerUsers(root);
        assertThat(users.resolve("1000:1000")).isEqualTo(new ContainerUsers.Identity(1000, 1000, List.of()));
        assertThatThrownBy(() -> users.resolve("app")).hasMessageContaining("has no /etc/passwd");
    }

    @Test
    void linksResolveInsideTheContainerNeverToTheHostsFiles() throws Exception {
        Path host = Files.createTempDirectory("host-etc");
        try {
            Files.writeString(host.resolve("passwd"), "evil:x:0:0::/:/bin/sh\n");
            // an absolute link to a path that exists on the host: inside the root it names nothing
            Files.move(root.resolve("etc/passwd"), root.resolve("etc/passwd.real"));
            Files.createSymbolicLink(root.resolve("etc/passwd"), host.resolve("passwd"));
            assertThatThrownBy(() -> new ContainerUsers(root).resolve("evil")).hasMessageContaining("no /etc/passwd");
            // a link inside the container is followed, as the container's own processes follow it
            Files.delete(root.resolve("etc/passwd"));
            Files.createSymbolicLink(root.resolve("etc/passwd"), Path.of("passwd.real"));
            assertThat(new ContainerUsers(root).resolve("app").uid()).isEqualTo(1000);
            // the whole of /etc a link to the host's directory
            Path etc = root.resolve("etc");
            Files.move(etc, root.resolve("etc.real"));
            Files.createSymbolicLink(etc, host);
            assertThatThrownBy(() -> new ContainerUsers(root).resolve("evil")).isInstanceOf(StartFailure.class)
                    .hasMessageNotContaining("evil:x");
        } finally {
            try (var files = Files.walk(host)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void aFifoOrADeviceInPlaceOfPasswdIsRefusedWithoutWaiting() throws Exception {
        Files.delete(root.resolve("etc/passwd"));
        new ProcessBuilder("mkfifo", root.resolve("etc/passwd").toString()).start().waitFor();
        assertThatThrownBy(() -> new ContainerUsers(root).resolve("app")).hasMessageContaining("not a plain file");
        Files.delete(root.resolve("etc/passwd"));
        Files.createSymbolicLink(root.resolve("etc/passwd"), Path.of("/proc/self/fd/0"));
        assertThatThrownBy(() -> new ContainerUsers(root).resolve("app")).isInstanceOf(StartFailure.class);
    }

    @Test
    void whatIsNotAPlainFileIsNeverOpened() throws Exception {
        // A FIFO with a writer waiting in its open(2): the writer goes on only if someone opens the FIFO for reading.
        // (A device node there, a terminal or a watchdog, must not be opened either; a FIFO shows it without root.)
        Files.delete(root.resolve("etc/passwd"));
        new ProcessBuilder("mkfifo", root.resolve("etc/passwd").toString()).start().waitFor();
        Process writer = new ProcessBuilder("sh", "-c", "echo x > \"$0\"", root.resolve("etc/passwd").toString())
                .start();
        try {
            Thread.sleep(200); // the writer is in its open
            assertThatThrownBy(() -> new ContainerUsers(root).resolve("app")).hasMessageContaining("not a plain file");
            assertThat(writer.waitFor(500, java.util.concurrent.TimeUnit.MILLISECONDS))
                    .as("the writer still waits: nobody opened the FIFO").isFalse();
        } finally {
            writer.destroyForcibly().waitFor();
        }
    }
}
