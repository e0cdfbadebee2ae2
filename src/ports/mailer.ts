// The mailer port: hand one finished mail to a transport. Rejects when the transport did not accept it.

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  /** Where mail goes, for the start-up log ("smtp://mail.example.com:587", "the console"). */
  readonly describe: string;
  /**
   * `signal` ends an attempt the caller gave up on (its deadline passed): the transport may drop it or close its
   * connection; whatever it does later is not looked at.
   */
  send(mail: OutgoingMail, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}
