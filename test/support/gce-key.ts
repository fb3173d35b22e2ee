/**
 * A service-account key file with every field mash requires. Not a key Google issued: the
 * tests' clients talk to fakes with a pass-through auth client and never sign with it.
 */
export const TEST_GCE_KEY = {
  type: 'service_account',
  project_id: 'imagecast-test',
  private_key_id: '0123456789abcdef0123456789abcdef01234567',
  private_key: '-----BEGIN PRIVATE KEY-----\nTUlJLWltYWdlY2FzdC10ZXN0LW5vdC1hLWtleQ==\n-----END PRIVATE KEY-----\n',
  client_email: 'imagecast@imagecast-test.iam.gserviceaccount.com',
  client_id: '100000000000000000001',
  auth_uri: 'https://accounts.google.com/o/oauth2/auth',
  token_uri: 'https://oauth2.googleapis.com/token',
  auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
  client_x509_cert_url: 'https://www.googleapis.com/robot/v1/metadata/x509/imagecast%40imagecast-test.iam.gserviceaccount.com',
};
