package org.dspex.beam.connector.protocol;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A request to send, immutable: a command, its arguments and its bodies. Each {@code with*}
 * method checks its argument and returns a copy; the id is given when the request is sent.
 *
 * <pre>{@code
 * Request predict =
 *     Request.of("predict")
 *         .withArg("handle", handle)
 *         .withArg("n", records.size())
 *         .withBody("inputs", records)                       // AUTO: JSON, MessagePack or Arrow
 *         .withBody("vectors", matrix, FormatChoice.forced(ContentFormat.NUMPY))  // forced
 *         .withStream(true);                                 // answered by stream frames
 * }</pre>
 */
public final class Request {
  private final String command;
  private final Map<String, Object> args;
  private final List<OutgoingBody> bodies;
  private final boolean stream;

  private Request(String command, Map<String, Object> args, List<OutgoingBody> bodies, boolean stream) {
    this.command = command;
    this.args = args;
    this.bodies = bodies;
    this.stream = stream;
  }

  /** A request for {@code command} with no arguments or bodies. */
  public static Request of(String command) {
    Checks.checkArgument(command != null && !command.isEmpty(), "command must not be empty");
    return new Request(command, Map.of(), List.of(), false);
  }

  /** The command. */
  public String command() {
    return command;
  }

  /** The arguments, in insertion order (unmodifiable). */
  public Map<String, Object> args() {
    return args;
  }

  /** The bodies, in order (unmodifiable). */
  public List<OutgoingBody> bodies() {
    return bodies;
  }

  /** Whether the answer is a stream (section 6) rather than a response; default {@code false}. */
  public boolean stream() {
    return stream;
  }

  /** Returns a copy with these arguments (replacing any); default none. */
  public Request withArgs(Map<String, ?> newArgs) {
    Checks.checkNotNull(newArgs, "args");
    Map<String, Object> copy = new LinkedHashMap<>(newArgs);
    for (OutgoingBody b : bodies) {
      checkNoCollision(b.name(), copy);
    }
    return new Request(command, Collections.unmodifiableMap(copy), bodies, stream);
  }

  /** Returns a copy with one more argument (replacing one of the same key). */
  public Request withArg(String key, Object value) {
    Checks.checkArgument(key != null && !key.isEmpty(), "arg key must not be empty");
    for (OutgoingBody b : bodies) {
      Checks.checkArgument(
          !b.name().equals(key), "arg '%s' collides with the body of that name", key);
    }
    Map<String, Object> copy = new LinkedHashMap<>(args);
    copy.put(key, value);
    return new Request(command, Collections.unmodifiableMap(copy), bodies, stream);
  }

  /** Returns a copy with one more body sent by {@code AUTO}. */
  public Request withBody(String name, Object value) {
    return withBody(name, value, FormatChoice.AUTO);
  }

  /** Returns a copy with one more body sent as chosen ({@code AUTO}, a forced content format or {@code REF}). */
  public Request withBody(String name, Object value, FormatChoice format) {
    OutgoingBody body = new OutgoingBody(name, value, format);
    for (OutgoingBody b : bodies) {
      Checks.checkArgument(!b.name().equals(name), "body '%s' is already in the request", name);
    }
    checkNoCollision(name, args);
    List<OutgoingBody> copy = new ArrayList<>(bodies);
    copy.add(body);
    return new Request(command, args, Collections.unmodifiableList(copy), stream);
  }

  /** Returns a copy that expects (or not) a stream as its answer; default {@code false}. */
  public Request withStream(boolean expectsStream) {
    return new Request(command, args, bodies, expectsStream);
  }

  private static void checkNoCollision(String bodyName, Map<String, ?> args) {
    Checks.checkArgument(
        !args.containsKey(bodyName), "body '%s' collides with the arg of that name", bodyName);
  }

  @Override
  public String toString() {
    return "Request{" + command + ", args=" + args.keySet() + ", bodies=" + bodies.size() + (stream ? ", stream" : "") + "}";
  }
}
