// The KeyCustody contract against the real SoftHSM2 token (keys generated inside, non-extractable).
import { expect } from '@jest/globals';
import { describeKeyCustodyContract } from '../contract/key-custody.contract.js';
import { Pkcs11KeyCustody } from '../../src/adapters/custody/pkcs11.js';
import { pkcs11Options } from './support.js';

describeKeyCustodyContract('KeyCustody contract: PKCS#11 on the SoftHSM2 token (generated inside, non-extractable)', async () => {
  const custody = await Pkcs11KeyCustody.open(pkcs11Options());
  return {
    custody,
    absentRef: `hk_${'0'.repeat(32)}`,
    async assertNotExtractable(ref) {
      // C_GetAttributeValue(CKA_VALUE) on the private key fails: CKR_ATTRIBUTE_SENSITIVE.
      expect(() => custody.readValueAttribute(ref)).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
    },
    cleanup: () => custody.close(),
  };
});
