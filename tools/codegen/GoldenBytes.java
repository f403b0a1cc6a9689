// Golden-bytes oracle for asiokafka's generated codec: reads lines
//   <message> <java class> <version> <json>
// (written by gen_messages.py --golden-input), builds each message with the Java client's own
// generated <class>JsonConverter, serializes it with the Java client's generated writer, and
// prints "<message> <version> <hex>". Versions the Java client cannot write are reported as
// "# <message> <version> skipped: <reason>". Run through tools/codegen/make_golden.sh.
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Message;
import org.apache.kafka.common.protocol.ObjectSerializationCache;

public final class GoldenBytes {
    public static void main(String[] args) throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        StringBuilder out = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isEmpty()) continue;
            String[] parts = line.split(" ", 4);
            String name = parts[0];
            String cls = "org.apache.kafka.common.message." + parts[1];
            short version = Short.parseShort(parts[2]);
            try {
                JsonNode node = mapper.readTree(parts[3]);
                Class<?> converter = Class.forName(cls + "JsonConverter");
                Method read = converter.getMethod("read", JsonNode.class, short.class);
                Message msg = (Message) read.invoke(null, node, version);
                ObjectSerializationCache cache = new ObjectSerializationCache();
                int size = msg.size(cache, version);
                ByteBuffer buf = ByteBuffer.allocate(size);
                msg.write(new ByteBufferAccessor(buf), cache, version);
                if (buf.position() != size) throw new IllegalStateException("size mismatch");
                out.append(name).append(' ').append(version).append(' ');
                for (byte b : buf.array()) out.append(String.format("%02x", b & 0xff));
                out.append('\n');
            } catch (Throwable e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                String reason = String.valueOf(cause.getMessage()).replace('\n', ' ');
                out.append("# ").append(name).append(' ').append(version).append(" skipped: ")
                   .append(cause.getClass().getSimpleName()).append(": ").append(reason).append('\n');
            }
        }
        System.out.print(out);
    }
}
