package io.execgate;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

import io.execgate.exec.ExecProperties;
import io.execgate.host.hcs.HcsProperties;
import io.execgate.host.local.LocalHostProperties;
import io.execgate.host.oci.OciProperties;
import io.execgate.host.qemu.QemuProperties;
import io.execgate.security.SecurityProperties;
import io.execgate.stream.StreamProperties;
import io.execgate.upstream.UpstreamProperties;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.BindHandler;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.bind.handler.NoUnboundElementsBindHandler;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.io.FileSystemResource;

/** {@code config/application.yaml} documents the defaults: its values must be the code's, and its keys real. */
class ConfigDefaultsTest {

    @Test
    void theDocumentedDefaultsAreTheCodesDefaults() throws Exception {
        Binder documented = binder(new YamlPropertySourceLoader().load("config",
                new FileSystemResource("config/application.yaml")));
        Binder empty = binder(List.of(new MapPropertySource("empty", Map.of())));
        BindHandler strict = new NoUnboundElementsBindHandler(BindHandler.DEFAULT);

        assertThat(documented.bindOrCreate("execgate.exec", Bindable.of(ExecProperties.class), strict))
                .isEqualTo(empty.bindOrCreate("execgate.exec", ExecProperties.class));
        assertThat(documented.bindOrCreate("execgate.backends.local", Bindable.of(LocalHostProperties.class), strict))
                .isEqualTo(empty.bindOrCreate("execgate.backends.local", LocalHostProperties.class));
        assertThat(documented.bindOrCreate("execgate.backends.oci", Bindable.of(OciProperties.class), strict))
                .isEqualTo(empty.bindOrCreate("execgate.backends.oci", OciProperties.class));
        assertThat(documented.bindOrCreate("execgate.backends.hcs", Bindable.of(HcsProperties.class), strict))
                .isEqualTo(empty.bindOrCreate("execgate.backends.hcs", HcsProperties.class));
        assertThat(documented.bindOrCreate("execgate.backends.qemu", Bindable.of(QemuProperties.class), strict))
                .isEqualTo(empty.bindOrCreate("execgate.backends.qemu", QemuProperties.class));
        assertThat(documented.bindOrCreate("execgate.upstream", Bindable.of(UpstreamProperties.class), strict))
                .isEqualTo(empty.bindOrCreate("execgate.upstream", UpstreamProperties.class));
        assertThat(documented.bindOrCreate("execgate.stream", Bindable.of(StreamProperties.class), strict))
                .isEqualTo(empty.bindOrCreate("execgate.stream", StreamProperties.class));
        assertThat(documented.bindOrCreate("execgate.security", Bindable.of(SecurityProperties.class), strict))
                .isEqualTo(empty.bindOrCreate("execgate.security", SecurityProperties.class));
        assertThat(documented.bind("execgate.data-dir", String.class).get()).isEqualTo("./data");
        assertThat(documented.bind("server.address", String.class).get()).isEqualTo("127.0.0.1");
    }

    /** Every setting has its line (a commented one for those without a default), so the file lists them all. */
    @Test
    void everySettingIsInTheFile() throws Exception {
        String yaml = Files.readString(Path.of("config/application.yaml"));
        for (Class<?> properties : List.of(ExecProperties.class, LocalHostProperties.class, OciProperties.class,
                HcsProperties.class, QemuProperties.class, UpstreamProperties.class, StreamProperties.class,
                SecurityProperties.class)) {
            for (RecordComponent component : properties.getRecordComponents()) {
                String key = component.getName().replaceAll("([A-Z])", "-$1").toLowerCase(Locale.ROOT);
                assertThat(yaml).as("%s.%s", properties.getSimpleName(), component.getName())
                        .containsPattern("(?m)^\\s*#?\\s*" + Pattern.quote(key) + ":");
            }
        }
    }

    private static Binder binder(List<PropertySource<?>> sources) {
        StandardEnvironment environment = new StandardEnvironment();
        environment.getPropertySources().forEach(s -> environment.getPropertySources().remove(s.getName()));
        sources.forEach(environment.getPropertySources()::addLast);
        return new Binder(ConfigurationPropertySources.get(environment));
    }
}
