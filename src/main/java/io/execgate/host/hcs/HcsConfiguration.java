package io.execgate.host.hcs;

import java.nio.file.Files;
import java.nio.file.Path;

import com.sun.jna.Native;
import com.sun.jna.Platform;
import io.execgate.host.TargetKind;
import io.execgate.host.TargetProvider;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Loads computecore once and offers its compute systems as two target kinds. On Linux it is off unless enabled
 * with a library path: the tests' fake.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(HcsProperties.class)
class HcsConfiguration {

    /** The loaded library, or why there is none. */
    record Loaded(@Nullable HcsApi api, String detail) {
    }

    @Bean
    Loaded hcsLibrary(HcsProperties properties) {
        boolean enabled = properties.enabled() != null ? properties.enabled() : Platform.isWindows();
        if (!enabled) {
            return new Loaded(null, properties.enabled() == null
                    ? "HCS runs on Windows only (execgate.backends.hcs.enabled turns it on with a library path, as the "
                            + "Linux tests do with their fake)"
                    : "disabled by execgate.backends.hcs.enabled");
        }
        String library = properties.library();
        if (library.contains("/") && !Files.isRegularFile(Path.of(library))) {
            return new Loaded(null, library + " does not exist");
        }
        try {
            ComputeCore api = Native.load(library, ComputeCore.class);
            return new Loaded(new HcsApi(api, HcsStdio.forPlatform(), properties.timeout()), "computecore from " + library);
        } catch (UnsatisfiedLinkError e) {
            return new Loaded(null, "cannot load " + library + ": " + e.getMessage());
        }
    }

    @Bean
    TargetProvider hcsContainers(Loaded hcs) {
        return new HcsTargetProvider(TargetKind.CONTAINER, hcs.api(), hcs.detail());
    }

    @Bean
    TargetProvider hcsUvms(Loaded hcs) {
        return new HcsTargetProvider(TargetKind.UVM, hcs.api(), hcs.detail());
    }
}
