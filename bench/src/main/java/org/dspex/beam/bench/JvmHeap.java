package org.dspex.beam.bench;

import com.sun.management.GarbageCollectorMXBean;
import com.sun.management.GcInfo;
import com.sun.tools.attach.VirtualMachine;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Collectors;
import javax.management.MBeanServerConnection;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * The heap of another JVM on this machine (the command's, a TaskManager's), read over JMX through
 * the attach API's local management agent: what is in use now, and what was in use right after
 * its last collection (the live set, the number that says whether a heap grows with the input).
 */
final class JvmHeap implements AutoCloseable {
  /**
   * JMX's client logs a warning each time a sampled JVM ends under an open connection, which is
   * how every sampled job ends; held here so that the setting is not collected with the logger.
   */
  private static final Logger JMX_CLIENT_LOG = Logger.getLogger("javax.management.remote");

  static {
    JMX_CLIENT_LOG.setLevel(Level.OFF);
  }

  private final JMXConnector connector;
  private final MemoryMXBean memory;
  private final List<GarbageCollectorMXBean> collectors;
  private final Set<String> heapPools;

  private JvmHeap(JMXConnector connector, MBeanServerConnection mbs) throws IOException {
    this.connector = connector;
    this.memory = ManagementFactory.newPlatformMXBeanProxy(mbs, ManagementFactory.MEMORY_MXBEAN_NAME,
        MemoryMXBean.class);
    this.collectors = ManagementFactory.getPlatformMXBeans(mbs, GarbageCollectorMXBean.class);
    this.heapPools = ManagementFactory.getPlatformMXBeans(mbs, MemoryPoolMXBean.class).stream()
        .filter(p -> p.getType() == MemoryType.HEAP).map(MemoryPoolMXBean::getName).collect(Collectors.toSet());
  }

  /**
   * Attaches to {@code pid}, retrying while the JVM is still starting (its attach listener comes
   * up with it) for up to {@code timeoutMillis}.
   */
  static JvmHeap attach(long pid, long timeoutMillis) throws Exception {
    long deadline = System.currentTimeMillis() + timeoutMillis;
    while (true) {
      try {
        VirtualMachine vm = VirtualMachine.attach(Long.toString(pid));
        String address;
        try {
          address = vm.startLocalManagementAgent();
        } finally {
          vm.detach();
        }
        JMXConnector c = JMXConnectorFactory.connect(new JMXServiceURL(address));
        return new JvmHeap(c, c.getMBeanServerConnection());
      } catch (Exception e) {
        if (System.currentTimeMillis() > deadline || ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true)) {
          throw new IOException("cannot attach to JVM " + pid + ": " + e, e);
        }
        Thread.sleep(200);
      }
    }
  }

  /** Heap bytes in use now, garbage included. */
  long usedBytes() {
    return memory.getHeapMemoryUsage().getUsed();
  }

  /** Heap bytes in use right after the JVM's latest collection; -1 before its first. */
  long afterLastCollectionBytes() {
    GcInfo latest = null;
    for (GarbageCollectorMXBean gc : collectors) {
      GcInfo info = gc.getLastGcInfo();
      if (info != null && (latest == null || info.getEndTime() > latest.getEndTime())) {
        latest = info;
      }
    }
    if (latest == null) {
      return -1;
    }
    long used = 0;
    for (Map.Entry<String, MemoryUsage> e : latest.getMemoryUsageAfterGc().entrySet()) {
      if (heapPools.contains(e.getKey())) {
        used += e.getValue().getUsed();
      }
    }
    return used;
  }

  @Override
  public void close() {
    try {
      connector.close();
    } catch (IOException e) {
      // The JVM is gone already: nothing to release.
    }
  }
}
