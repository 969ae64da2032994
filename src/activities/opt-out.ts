import { CheckIfPhoneNumberIsOptedOutCommand } from '@aws-sdk/client-sns';
import { maskPhone } from '../domain/phone-mask';
import type { ActivityDeps } from './deps';

export function createOptOutActivities({ sns, logger }: Pick<ActivityDeps, 'sns' | 'logger'>) {
  return {
    /**
     * Whether SNS lists the number as opted out. AWS adds a number itself when its person texts
     * STOP, so this is what tells a real STOP from a forged one.
     */
    async isPhoneOptedOut({ phone }: { phone: string }): Promise<boolean> {
      const { isOptedOut } = await sns.send(new CheckIfPhoneNumberIsOptedOutCommand({ phoneNumber: phone }));
      logger.info({ phone: maskPhone(phone), optedOut: isOptedOut === true }, 'SNS opt-out list checked');
      return isOptedOut === true;
    },
  };
}
