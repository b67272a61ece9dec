package io.execgate;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;

import io.execgate.host.hcs.HcsProperties;
import io.execgate.host.local.LocalHostProperties;
import io.execgate.host.oci.OciProperties;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.BindHandler;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.bind.handler.NoUnboundElementsBindHandler;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.io.FileSystemResource;

/** The node profiles in {@code config/examples} use only real keys, with the values their comments promise. */
class ConfigExamplesTest {

    private static final BindHandler STRICT = new NoUnboundElementsBindHandler(BindHandler.DEFAULT);

    @Test
    void theContainerdNodeProfileServesItsNodesKubernetesContainers() throws Exception {
        Binder binder = binder("config/examples/containerd-node.yaml");
        OciProperties oci = binder.bindOrCreate("execgate.backends.oci", Bindable.of(OciProperties.class), STRICT);
        assertThat(oci.roots()).containsExactly(Path.of("/run/containerd/runc/k8s.io"));
        assertThat(binder.bindOrCreate("execgate.backends.local", Bindable.of(LocalHostProperties.class), STRICT)
                .enabled()).isFalse();
        assertThat(binder.bind("server.address", String.class).get()).isEqualTo("0.0.0.0");
        assertThat(binder.bind("execgate", Bindable.of(ExecgateProperties.class)).get().dataDir())
                .isEqualTo(Path.of("/var/lib/execgate"));
    }

    @Test
    void theWindowsNodeProfileTurnsOnHcsAlone() throws Exception {
        Binder binder = binder("config/examples/windows-node.yaml");
        assertThat(binder.bindOrCreate("execgate.backends.hcs", Bindable.of(HcsProperties.class), STRICT).enabled())
                .isTrue();
        assertThat(binder.bindOrCreate("execgate.backends.oci", Bindable.of(OciProperties.class), STRICT).enabled())
                .isFalse();
        assertThat(binder.bindOrCreate("execgate.backends.local", Bindable.of(LocalHostProperties.class), STRICT)
                .enabled()).isFalse();
    }

    private static Binder binder(String file) throws Exception {
        StandardEnvironment environment = new StandardEnvironment();
        environment.getPropertySources().forEach(s -> environment.getPropertySources().remove(s.getName()));
        List.copyOf(new YamlPropertySourceLoader().load(file, new FileSystemResource(file)))
                .forEach(environment.getPropertySources()::addLast);
        return new Binder(ConfigurationPropertySources.get(environment));
    }
}
