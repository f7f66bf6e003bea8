// The only export of the bundle: JsSIP as a global for console/static/desk-phone.js.
import JsSIP from "jssip";
window.JsSIP = JsSIP;
