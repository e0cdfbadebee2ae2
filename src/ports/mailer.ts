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
  send(mail: OutgoingMail): Promise<void>;
  close(): Promise<void>;
}
