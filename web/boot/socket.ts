// The lesson page's first boot script, bundled on its own (web/scripts/build-boot.mjs) and inlined at the
// top of the page's body, so it runs as the HTML is parsed, before the framework's scripts: it opens the
// page's socket and asks for the lesson's sandbox, so the handshake and the answer overlap everything else
// the page loads. terminal.ts, the second, shows the first terminal over this socket.
import { connectEarly } from '../components/player/earlySocket';
import { markLoad } from '../lib/timing';

markLoad('boot');
connectEarly();
