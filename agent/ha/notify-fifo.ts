import { constants, openSync, statSync } from "node:fs";
import { Socket } from "node:net";

/**
 * Reads keepalived's notify fifo line by line. The fifo is opened read-write and non-blocking, so
 * opening never waits for keepalived and its restarts never end the stream with EOF; `reopen`
 * follows a fifo that was replaced (keepalived re-creates it when it starts).
 */
export class NotifyFifoReader {
  private socket: Socket | null = null;
  private inode = -1;
  private rest = "";

  constructor(
    private readonly path: string,
    private readonly onLine: (line: string) => void,
    private readonly onError: (message: string) => void,
  ) {}

  /** (Re)opens the fifo when it is not open yet or was replaced; true when it is open. */
  reopen(): boolean {
    let ino: number;
    try {
      const st = statSync(this.path);
      if (!st.isFIFO()) return false;
      ino = st.ino;
    } catch {
      return false;
    }
    if (this.socket !== null && ino === this.inode) return true;
    this.close();
    let fd: number;
    try {
      fd = openSync(this.path, constants.O_RDWR | constants.O_NONBLOCK);
    } catch (e) {
      this.onError(`cannot open ${this.path}: ${(e as Error).message}`);
      return false;
    }
    this.inode = ino;
    const socket = new Socket({ fd, readable: true, writable: false });
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      const lines = (this.rest + chunk).split("\n");
      this.rest = lines.pop() ?? "";
      for (const l of lines) if (l.trim() !== "") this.onLine(l);
    });
    socket.on("error", (e) => this.onError(`${this.path}: ${e.message}`));
    this.socket = socket;
    return true;
  }

  close(): void {
    if (this.socket === null) return;
    this.socket.destroy();
    this.socket = null;
    this.inode = -1;
    this.rest = "";
  }
}
