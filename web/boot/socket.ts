// The lesson page's first boot script (web/scripts/build-boot.mjs bundles it on its own, small, so it
// arrives and runs before the framework's scripts): it opens the page's socket and asks for the lesson's
// sandbox, so the handshake and the answer overlap everything else the page loads. terminal.ts, the
// second, shows the first terminal over this socket.
import { connectEarly } from '../components/player/earlySocket';
import { markLoad } from '../lib/timing';

markLoad('boot');
connectEarly();
