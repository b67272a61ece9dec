package io.execgate;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Holds {@code execgate.data-dir} for the service's life: created before, and closed after, every bean that uses it. */
@Configuration(proxyBeanMethods = false)
class DataDirectoryConfiguration {

    @Bean(destroyMethod = "close")
    DataDirectory dataDirectory(ExecgateProperties service) {
        return DataDirectory.lock(service.dataDir());
    }
}
