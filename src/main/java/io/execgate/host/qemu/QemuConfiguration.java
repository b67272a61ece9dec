package io.execgate.host.qemu;

import io.execgate.ExecgateProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The QEMU UVM backend: a target provider that is also the UVM lifecycle; it stops its VMs when the service stops. */
@Configuration(proxyBeanMethods = false)
class QemuConfiguration {

    @Bean(destroyMethod = "close")
    QemuUvmProvider qemuUvms(QemuProperties properties, ExecgateProperties service) {
        return new QemuUvmProvider(properties, service);
    }
}
