package io.execgate.host.qemu;

import io.execgate.DataDirectory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The QEMU UVM backend: a target provider that is also the UVM lifecycle; it stops its VMs when the service stops. */
@Configuration(proxyBeanMethods = false)
class QemuConfiguration {

    @Bean(destroyMethod = "close")
    QemuUvmProvider qemuUvms(QemuProperties properties, DataDirectory data) {
        return new QemuUvmProvider(properties, data);
    }
}
